"""The one redaction of app_support: credentials out of any text that may be shown or logged.

Used by every message that may quote a URL or DSN (configuration errors, reprs, health reports,
database errors), so every piece hides the same things with the same marker.
"""

from __future__ import annotations

import re

__all__ = ["REDACTED", "redact"]

REDACTED = "***"

# A URL with user-info, whatever the scheme ("mysql://", "postgresql+psycopg://", "postgresql:/",
# "redis+sentinel://", "http://"): the user-info runs to the *last* "@" of the token, so a password
# holding an unencoded "@" (or "/") is still hidden whole. Over-redacting a path that holds an "@"
# is the safe way to be wrong.
_USERINFO = re.compile(r"\b([a-z][a-z0-9+.-]*:/{0,3})([^\s'\"<>]*)@", re.IGNORECASE)
# libpq keyword DSNs ("password=..."), "key: value" dumps and URL query parameters.
_SECRET_PAIR = re.compile(
    r"\b(password|passwd|pwd|secret|token|auth[_-]?pass|requirepass|masterauth)"
    r"(\s*[=:]\s*)('[^']*'|\"[^\"]*\"|[^\s,;&)'\"]+)",
    re.IGNORECASE,
)
# Redis AUTH [username] password, as echoed by some errors.
_AUTH_COMMAND = re.compile(r"\b(AUTH)\s+\S+(\s+\S+)?", re.IGNORECASE)


def _userinfo(match: re.Match[str]) -> str:
    user, colon, _password = match.group(2).partition(":")
    # "user:password@" keeps the user; a lone "token@" may be a password and goes whole.
    kept = f"{user}:{REDACTED}" if colon else REDACTED
    return f"{match.group(1)}{kept}@"


def redact(text: str, *secrets: str) -> str:
    """``text`` with URL user-info, ``password=``-style values, AUTH arguments and ``secrets``
    replaced by :data:`REDACTED`.

    ``postgresql://app:pw@db/app`` becomes ``postgresql://app:***@db/app``; hosts, ports and paths
    stay so the message still says where. Never raises.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _USERINFO.sub(_userinfo, text)
    text = _SECRET_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _AUTH_COMMAND.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
