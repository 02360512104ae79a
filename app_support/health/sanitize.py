"""Error text safe to show to a caller: no passwords, no DSNs, no URLs with credentials."""

from __future__ import annotations

import re

from app_support.redact import REDACTED, redact

__all__ = ["sanitize_error"]

# A health report goes to monitoring callers: beyond the credentials app_support.redact removes,
# the address of a database or broker (host, port, database) goes too.
_DSN_URL = re.compile(
    r"\b(postgres(?:ql)?(?:\+\w+)?|redis|rediss|redis\+sentinel|unix|amqps?|mysql|"
    r"mongodb(?:\+srv)?):/*[^\s'\"<>]*",
    re.IGNORECASE,
)


def sanitize_error(value: object, *, limit: int = 300) -> str | None:
    """`value` as text with credentials and DSNs removed, cut to `limit` characters.

    None stays None (the report's "no error"); anything else is converted with `str()`.
    """
    if value is None:
        return None
    text = redact(str(value))
    text = _DSN_URL.sub(lambda m: f"{m.group(1)}://{REDACTED}", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
