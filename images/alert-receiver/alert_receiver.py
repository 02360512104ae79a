#!/usr/bin/env python3
"""alert-receiver: a webhook that records what Alertmanager sends it, so drills can prove delivery.

    alert-receiver                 serve on 0.0.0.0:$PORT (default 9095)
    alert-receiver --check URL     exit 0 when URL answers 200 (the container's health check)

POST /alerts         record the JSON body (Alertmanager's webhook payload) with the time it came
GET  /notifications  every recorded notification, oldest first: [{"received": unix seconds,
                     "payload": {...}}, ...]; the last MAX_KEPT are kept, in memory only
GET  /healthz        200 "ok"

Standard library only: the image is Debian's python3 and this file. A body that is not a JSON
object, or larger than MAX_BODY, is refused with 400 / 413 and not recorded.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.request
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

__all__ = ["MAX_BODY", "MAX_KEPT", "Recorder", "main", "serve"]

MAX_BODY: Final = 1 << 20  # Alertmanager's payload of a large group stays far below 1 MiB
MAX_KEPT: Final = 1000


class Recorder:
    """The notifications received so far (thread-safe: the server handles each in a thread)."""

    def __init__(self, keep: int = MAX_KEPT) -> None:
        self._lock = threading.Lock()
        self._kept: deque[dict[str, Any]] = deque(maxlen=keep)

    def record(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self._kept.append({"received": time.time(), "payload": payload})

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._kept)


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "alert-receiver"

        def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._reply(200, b"ok\n")
            elif self.path == "/notifications":
                body = json.dumps(recorder.snapshot()).encode()
                self._reply(200, body, "application/json")
            else:
                self._reply(404, b"not found\n")

        def do_POST(self) -> None:
            if self.path != "/alerts":
                self._reply(404, b"not found\n")
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._reply(411, b"Content-Length required\n")
                return
            if length > MAX_BODY:
                self._reply(413, b"body too large\n")
                return
            try:
                payload = json.loads(self.rfile.read(length))
            except (ValueError, UnicodeDecodeError):
                payload = None
            if not isinstance(payload, dict):
                self._reply(400, b"expected a JSON object\n")
                return
            recorder.record(payload)
            alerts = payload.get("alerts")
            count = len(alerts) if isinstance(alerts, list) else 0
            print(f"received {payload.get('status')} {count} alert(s)", flush=True)
            self._reply(200, b"recorded\n")

        def log_message(self, format: str, *args: Any) -> None:
            # Health checks every few seconds would drown the log: record lines are printed above.
            return

    return Handler


def serve(host: str, port: int, recorder: Recorder | None = None) -> ThreadingHTTPServer:
    """A server bound to ``host:port`` (port 0: a free one); the caller runs serve_forever."""
    server = ThreadingHTTPServer((host, port), _handler(recorder or Recorder()))
    server.daemon_threads = True
    return server


def _check(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as reply:  # noqa: S310 (a local http URL)
            return 0 if reply.status == 200 else 1
    except OSError as error:
        print(f"alert-receiver --check {url}: {error}", file=sys.stderr)
        return 1


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--check":
        return _check(argv[1])
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    raw = os.environ.get("PORT", "") or "9095"
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        message = f"alert-receiver: PORT: {raw!r} is not a port; for example PORT=9095"
        print(message, file=sys.stderr)
        return 78
    server = serve("0.0.0.0", int(raw))  # noqa: S104 (the container's network only)
    print(f"alert-receiver: listening on 0.0.0.0:{raw}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
