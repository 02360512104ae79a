"""The framework-free core of the /metrics endpoint: access check, format negotiation, gzip.

In production the bearer token is checked by :func:`app_support.tokens.bearer_token_matches`
(constant time). The text format and OpenMetrics are chosen
from ``Accept`` and gzip from ``Accept-Encoding`` by prometheus-client's own negotiation.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass

from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder, gzip_accepted
from prometheus_client.registry import Collector

from app_support.metrics.multiprocess import exposition_registry
from app_support.metrics.settings import MetricsSettings
from app_support.tokens import bearer_token_matches

__all__ = ["MetricsEndpoint", "MetricsResponse"]

_ALLOWED_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class MetricsResponse:
    """What an adapter sends: status code, headers and body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class MetricsEndpoint:
    """Serves ``registry`` (aggregated across workers in multiprocess mode) under ``settings``.

    ``settings`` defaults to :meth:`MetricsSettings.from_env`, which raises
    :class:`~app_support.metrics.settings.MetricsConfigError` on a bad environment.
    """

    def __init__(
        self,
        *,
        registry: Collector = REGISTRY,
        settings: MetricsSettings | None = None,
        gzip_level: int = 6,
    ) -> None:
        if not 0 <= gzip_level <= 9:
            raise ValueError(f"gzip_level must be 0-9 (example: gzip_level=6), got {gzip_level}")
        self.settings = MetricsSettings.from_env() if settings is None else settings
        self._registry = exposition_registry(registry, self.settings.multiprocess_dir)
        self._gzip_level = gzip_level

    def authorized(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header value grants access (always, in development)."""
        if not self.settings.secured:
            return True
        return bearer_token_matches(authorization, self.settings.token)

    def respond(
        self,
        method: str,
        authorization: str | None,
        accept: str | None,
        accept_encoding: str | None,
    ) -> MetricsResponse:
        """The response to one request; collects the metrics, so it may block on scrape-time I/O."""
        if method not in _ALLOWED_METHODS:
            return MetricsResponse(405, [("Allow", ", ".join(_ALLOWED_METHODS))], b"")
        if not self.authorized(authorization):
            return MetricsResponse(
                401,
                [("WWW-Authenticate", 'Bearer realm="metrics"'), ("Content-Type", "text/plain")],
                b"401 Unauthorized: send Authorization: Bearer <METRICS_TOKEN>\n",
            )
        encoder, content_type = choose_encoder(accept or "")
        body = encoder(self._registry)
        headers = [("Content-Type", content_type), ("Vary", "Accept, Accept-Encoding")]
        if gzip_accepted(accept_encoding or ""):
            body = gzip.compress(body, compresslevel=self._gzip_level)
            headers.append(("Content-Encoding", "gzip"))
        if method == "HEAD":
            body = b""
        return MetricsResponse(200, headers, body)
