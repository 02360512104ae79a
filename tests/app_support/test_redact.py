"""One redaction for every message that may show a URL (issue 13.5), whatever the scheme."""

from __future__ import annotations

import pytest

from app_support.health import sanitize_error
from app_support.postgres.errors import safe_error_text
from app_support.redact import REDACTED, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://app:pw@db:5432/app", "postgresql://app:***@db:5432/app"),
        ("mysql://root:pw@db/app", "mysql://root:***@db/app"),
        ("postgresql+psycopg://app:pw@db/app", "postgresql+psycopg://app:***@db/app"),
        ("postgresql:/app:pw@db/app", "postgresql:/app:***@db/app"),
        ("redis+sentinel://:pw@s1:26379/m", "redis+sentinel://:***@s1:26379/m"),
        ("http://:pw@redis:6379", "http://:***@redis:6379"),
        ("redis://tokenonly@redis:6379", "redis://***@redis:6379"),
        ("postgresql://app:p@ss@db/app", "postgresql://app:***@db/app"),
        ("postgresql://app:p@s/s@db/app", "postgresql://app:***@db/app"),
        ("'redis://:pw@h:1' and 'mysql://u:pw@h'", "'redis://:***@h:1' and 'mysql://u:***@h'"),
        ("host=db password=pw dbname=app", "host=db password=*** dbname=app"),
        ("password='two words' x", "password=*** x"),
        ("AUTH default pw", "AUTH ***"),
        ("no secret at https://example.com/x", "no secret at https://example.com/x"),
    ],
)
def test_user_info_goes_whatever_the_scheme(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_given_secrets_go_too_and_one_marker_is_used_everywhere() -> None:
    assert redact("failed for hunter2", "hunter2", "") == f"failed for {REDACTED}"
    error = ValueError("cannot reach mysql://app:hunter2@db/app\nsecond line")
    assert safe_error_text(error) == "ValueError: cannot reach mysql://app:***@db/app"
    assert sanitize_error(error) == "cannot reach mysql://*** second line"
    assert sanitize_error("redis+sentinel://:hunter2@s1:26379") == "redis+sentinel://***"
