"""Error text safe to show to a caller: no passwords, no DSNs, no URLs with credentials."""

from __future__ import annotations

import re

__all__ = ["sanitize_error"]

# A database or broker URL names a host, a user and often a password: the whole DSN goes.
_DSN_URL = re.compile(
    r"\b(postgres(?:ql)?|redis|rediss|unix|amqps?|mysql|mongodb(?:\+srv)?)://[^\s'\"<>]*",
    re.IGNORECASE,
)
# Any other URL keeps its host but loses its user-info part.
_USERINFO = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^/\s@'\"<>]+@", re.IGNORECASE)
# libpq keyword DSNs and "key: value" dumps.
_SECRET_PAIR = re.compile(
    r"\b(password|passwd|pwd|secret|token|auth[_-]?pass|requirepass|masterauth)"
    r"(\s*[=:]\s*)('[^']*'|\"[^\"]*\"|[^\s,;&)]+)",
    re.IGNORECASE,
)
_AUTH_COMMAND = re.compile(r"\b(AUTH)\s+\S+(\s+\S+)?", re.IGNORECASE)
_REDACTED = "[redacted]"


def sanitize_error(value: object, *, limit: int = 300) -> str | None:
    """`value` as text with credentials and DSNs removed, cut to `limit` characters.

    None stays None (the report's "no error"); anything else is converted with `str()`.
    """
    if value is None:
        return None
    text = str(value)
    text = _DSN_URL.sub(lambda m: f"{m.group(1)}://{_REDACTED}", text)
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{_REDACTED}@", text)
    text = _SECRET_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{_REDACTED}", text)
    text = _AUTH_COMMAND.sub(lambda m: f"{m.group(1)} {_REDACTED}", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
