"""Request details both adapters share: content negotiation and the bearer-token check."""

from __future__ import annotations

# Re-exported: the check lives in app_support.tokens, shared with the /metrics endpoint.
from app_support.tokens import bearer_token_matches

__all__ = ["bearer_token_matches", "prefers_health_json"]


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media:
            ranges.append((media.lower(), q))
    return ranges


def prefers_health_json(accept: str | None) -> bool:
    """Whether the Accept header ranks application/health+json above application/json.

    A client that lists neither (or only */*) gets plain JSON.
    """
    if not accept:
        return False
    ranks = dict(_media_ranges(accept))
    health = ranks.get("application/health+json", 0.0)
    plain = max(ranks.get("application/json", 0.0), ranks.get("application/*", 0.0))
    return health > 0 and health >= plain
