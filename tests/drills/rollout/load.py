"""A steady load through every published app port: one thread per web replica, each GETting
``/api/auth/me`` (a signed-in session: Redis behind the app) as a client of that port would,
twice a second: enough to see every second of an outage, light enough not to make one on a busy
CI machine."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Self

import httpx

from tests.drills.rollout.windows import Request

__all__ = ["PortLoad"]


class PortLoad:
    """Requests every ``pace`` seconds to each port (service -> port) with ``headers`` (the
    session cookie: prod's is ``Secure``, which a cookie jar keeps off plain http); every outcome
    recorded as a Request (ok: HTTP 200)."""

    def __init__(
        self, ports: Mapping[str, int], headers: Mapping[str, str], pace: float = 0.5
    ) -> None:
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(s, p, headers, pace), daemon=True)
            for s, p in ports.items()
        ]

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, service: str, port: int, headers: Mapping[str, str], pace: float) -> None:
        # A fresh connection per request: a kept-alive one to a replaced container would fail
        # once for the client's reuse of it, not for the service.
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers=dict(headers), timeout=10.0,
            limits=httpx.Limits(max_keepalive_connections=0),
        ) as client:  # fmt: skip
            while not self._stop.is_set():
                sent = time.time()
                try:
                    status = client.get("/api/auth/me").status_code
                except httpx.HTTPError:
                    status = 0
                with self._lock:
                    self.requests.append(Request(service, sent, time.time(), status == 200, status))
                self._stop.wait(max(0.0, pace - (time.time() - sent)))

    def snapshot(self) -> list[Request]:
        with self._lock:
            return list(self.requests)
