"""The one bearer-token check behind /metrics and the detailed health report."""

from __future__ import annotations

import pytest

from app_support.tokens import bearer_token_matches


@pytest.mark.parametrize(
    "authorization", ["Bearer tok", "bearer tok", "BEARER  tok ", "  Bearer tok", "Bearer tok\t"]
)
def test_the_bearer_scheme_with_the_token_matches(authorization: str) -> None:
    assert bearer_token_matches(authorization, "tok")


@pytest.mark.parametrize(
    ("authorization", "token"),
    [
        ("Bearer tok2", "tok"),
        ("Bearer to", "tok"),
        ("Basic tok", "tok"),
        ("tok", "tok"),
        ("Bearer", "tok"),
        ("", "tok"),
        (None, "tok"),
        ("Bearer tok", None),
        ("Bearer ", ""),
    ],
)
def test_anything_else_does_not(authorization: str | None, token: str | None) -> None:
    assert not bearer_token_matches(authorization, token)
