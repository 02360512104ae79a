"""DATABASE_URL parsing: the Prisma-style pool parameters libpq rejects are taken out and returned.

``postgresql://u:p@h/db?connection_limit=20&pool_timeout=10&schema=app`` becomes the libpq URL
``postgresql://u:p@h/db`` plus
``{"connection_limit": "20", "pool_timeout": "10", "schema": "app"}``.
``connect_timeout`` and ``application_name`` are libpq parameters, but the settings own them (so a
variable can override them), so they are taken out too.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["EXTRACTED_PARAMS", "SplitUrl", "split_url"]

# Prisma's pool parameters, then the libpq ones the settings own.
EXTRACTED_PARAMS = frozenset(
    {"connection_limit", "pool_timeout", "schema", "connect_timeout", "application_name"}
)
_SCHEMES = ("postgresql://", "postgres://")


class SplitUrl(NamedTuple):
    conninfo: str
    params: dict[str, str]


def split_url(url: str) -> SplitUrl:
    """Take :data:`EXTRACTED_PARAMS` out of a URL's query string.

    A keyword/value conninfo (``host=... dbname=...``) is returned unchanged: the Prisma parameters
    only ever appeared in URLs, and libpq reports anything unknown in the rest.
    """
    if not url.lower().startswith(_SCHEMES):
        return SplitUrl(url, {})
    parts = urlsplit(url)
    kept: list[tuple[str, str]] = []
    params: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in EXTRACTED_PARAMS:
            params[key] = value
        else:
            kept.append((key, value))
    return SplitUrl(urlunsplit(parts._replace(query=urlencode(kept))), params)
