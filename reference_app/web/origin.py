"""Is a request a browser's cross-site request? (login CSRF, issue 13 item 18)

A page on another site can make a browser POST a form to /api/auth/sign-in with the attacker's
credentials; the browser would then hold a session of the attacker's account (and upload the
victim's files into it). SameSite cookies do not help: the victim has no cookie yet. Browsers
say where a request comes from, and every current one sends ``Origin`` on a POST:

- ``Sec-Fetch-Site`` (fetch metadata): only ``same-origin`` and ``none`` (typed, bookmarked) pass;
  ``same-site`` is refused too, since a sibling subdomain may belong to someone else;
- ``Origin`` must name this server: the same host as the ``Host`` header, and the same port when
  ``Host`` gives one (behind a TLS proxy ``Host`` has none and the schemes differ, so a missing
  port matches the origin's default port). ``null`` (sandboxed frames, files) never matches.

A request with neither header does not come from a browser page (curl, scripts): it passes.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

__all__ = ["is_cross_site"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_cross_site(request: Request) -> bool:
    """True when the browser says the request comes from another site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.strip().lower() not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return not _names_this_server(origin, request.headers.get("host", ""))


def _names_this_server(origin: str, host: str) -> bool:
    try:
        parts = urlsplit(origin.strip())
        origin_port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
        served = urlsplit(f"//{host.strip()}")
        host_port = served.port
    except ValueError:  # a malformed port or bracket
        return False
    if not parts.hostname or parts.hostname != served.hostname:
        return False
    return host_port is None or host_port == origin_port
