"""A password checked against the verifier PostgreSQL stored for its role (pg_authid.rolpassword):
vectors PostgreSQL 15 made, and the verifier of a real server's app role (tests/servers)."""

import psycopg
import pytest

from stacks.compose.stored_password import UnknownVerifierError, password_matches
from tests.servers.postgres_server import PostgresServer

PASSWORD = "correct horse battery staple"
# CREATE ROLE vector_probe PASSWORD '<PASSWORD>' on PostgreSQL 15, password_encryption scram /md5.
SCRAM = (
    "SCRAM-SHA-256$4096:KxTR9vj4fvTutNxYjU2+fA==$85llPWYhj4VlrbLl3v3MVwrhp/0WxV9nQRSKgc3GWLc="
    ":UEP4839gjbFV16D4+1+xT78gwsDg98uZMhahdTVDPtw="
)
MD5 = "md5cc6ba738a6f5b46a81bc6f9e154428df"


@pytest.mark.parametrize("stored", [SCRAM, MD5, PASSWORD])
def test_the_password_the_verifier_was_made_from_matches(stored: str) -> None:
    assert password_matches(stored, PASSWORD, "vector_probe")


@pytest.mark.parametrize("stored", [SCRAM, MD5, PASSWORD])
def test_another_password_does_not(stored: str) -> None:
    assert not password_matches(stored, PASSWORD + "!", "vector_probe")
    assert not password_matches(stored, "", "vector_probe")


def test_md5_is_salted_with_the_user() -> None:
    assert not password_matches(MD5, PASSWORD, "app")


@pytest.mark.parametrize(
    "stored",
    [
        "SCRAM-SHA-256$0:KxTR9vj4fvTutNxYjU2+fA==$85ll:UEP4",
        "SCRAM-SHA-256$4096:not base64!$x:y",
        "SCRAM-SHA-1$4096:abc=$def=:ghi=",
        "md5nothex",
    ],
)
def test_an_unreadable_verifier_is_refused_not_guessed(stored: str) -> None:
    with pytest.raises(UnknownVerifierError):
        password_matches(stored, PASSWORD, "vector_probe")


def test_a_real_servers_app_role(postgres_server: PostgresServer) -> None:
    with psycopg.connect(postgres_server.superuser_url, connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (postgres_server.user,)
        ).fetchone()
    assert row is not None
    stored = str(row[0])
    assert stored.startswith("SCRAM-SHA-256$")
    assert password_matches(stored, postgres_server.password, postgres_server.user)
    assert not password_matches(stored, postgres_server.password + "x", postgres_server.user)
