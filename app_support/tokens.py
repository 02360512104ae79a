"""The bearer-token check shared by /metrics and the detailed health report."""

from __future__ import annotations

import hmac

__all__ = ["bearer_token_matches"]


def bearer_token_matches(authorization: str | None, token: str | None) -> bool:
    """Whether an ``Authorization`` header value is ``Bearer <token>``.

    The scheme is case-insensitive and whitespace around the credentials is ignored. The token is
    compared with ``hmac.compare_digest`` so response timing does not reveal how much of a guess
    was right. False (never an error) when either value is missing or empty.
    """
    if not authorization or not token:
        return False
    scheme, _, presented = authorization.strip().partition(" ")
    matches = hmac.compare_digest(presented.strip().encode(), token.encode())
    return matches and scheme.lower() == "bearer"
