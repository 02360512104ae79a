"""Bounds on what one HTTP request may cost the web process before the app has decided anything.

Defaults suit the stacks; tests tighten them (``create_app(limits=...)``). The server half
(header and keep-alive timeouts, header size) is applied by :mod:`reference_app.web.server`, the
body half by :mod:`reference_app.web.body`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RequestLimits"]


@dataclass(frozen=True, kw_only=True)
class RequestLimits:
    """- ``sign_in_bytes``: largest sign-in body (JSON or form); credentials take a few dozen
      bytes, anything beyond gets 413 before it is read.
    - ``header_timeout``: seconds from a connection's first byte (or the end of the previous
      response) to a complete request line and headers; then the connection is closed.
    - ``body_timeout``: seconds to receive a whole request body (an upload of 10 MiB needs
      175 KB/s); then 408.
    - ``keep_alive``: seconds an idle keep-alive connection is kept open.
    - ``max_header_bytes``: request line plus headers (431/400 beyond, by the HTTP parser).

    Raises ValueError for a bound that is not positive and finite.
    """

    sign_in_bytes: int = 4096
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    keep_alive: int = 5
    max_header_bytes: int = 16 * 1024

    def __post_init__(self) -> None:
        for name in ("sign_in_bytes", "header_timeout", "body_timeout", "keep_alive",
                     "max_header_bytes"):  # fmt: skip
            value = getattr(self, name)
            if not 0 < value < float("inf"):
                raise ValueError(f"{name} must be positive and finite, got {value!r}")
