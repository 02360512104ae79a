import pytest

from reference_app.passwords import hash_password, verify_password


def test_hash_round_trip_and_salt() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first != second
    assert verify_password("s3cret", first)
    assert not verify_password("wrong", first)


def test_unknown_user_and_malformed_hash_fail() -> None:
    assert not verify_password("s3cret", None)
    assert not verify_password("s3cret", "md5$abc")
    assert not verify_password("s3cret", "scrypt$x$y$z$a$b")


def test_empty_password_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        hash_password("")
