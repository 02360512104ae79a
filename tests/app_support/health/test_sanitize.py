"""Error text never carries passwords, DSNs or credentials in URLs."""

from __future__ import annotations

import pytest

from app_support.health import sanitize_error


@pytest.mark.parametrize(
    ("raw", "secret"),
    [
        ("connection failed: postgresql://app:s3cret@db:5432/app?sslmode=require", "s3cret"),
        ("connection failed: postgresql://app:s3cret@db:5432/app?sslmode=require", "db:5432"),
        ("Error connecting to redis://:hunter2@10.0.0.5:6379/0", "hunter2"),
        ("GET https://admin:pa55@example.com/x failed", "pa55"),
        ("host=db user=app password=s3cret dbname=app", "s3cret"),
        ("invalid config: password='two words'", "two words"),
        ("requirepass: hunter2", "hunter2"),
        ("AUTH default hunter2 failed", "hunter2"),
    ],
)
def test_secrets_are_removed(raw: str, secret: str) -> None:
    clean = sanitize_error(raw)
    assert clean is not None
    assert secret not in clean
    assert "***" in clean


def test_plain_errors_survive_and_long_ones_are_cut() -> None:
    assert sanitize_error(None) is None
    assert sanitize_error(ConnectionRefusedError("refused")) == "refused"
    assert sanitize_error("https://example.com/x  is\ndown") == "https://example.com/x is down"
    cut = sanitize_error("x" * 1000, limit=50)
    assert cut is not None
    assert len(cut) == 50
    assert cut.endswith("...")
