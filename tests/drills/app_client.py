"""The reference app as the drills drive it: sign in, upload sales CSVs, and keep a steady load.

Only the ports the stack publishes on 127.0.0.1 are used. The load is paced under the app's upload
rate limit (30 per minute per client), so every refusal it records is an outage, not throttling.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

import httpx

__all__ = ["LOAD_PACE_S", "AppClient", "ImportLoad", "Outcome", "Probe", "longest_gap", "sales_csv"]

# Below the upload limit (30 per 60 s per client) with room for the drills' own uploads.
LOAD_PACE_S = 2.5


def sales_csv(rows: int, *, seed: int = 0) -> bytes:
    """A valid sales CSV of ``rows`` rows (header + ``date,region,product,quantity,unit_price``)."""
    lines = ["date,region,product,quantity,unit_price"]
    regions = ("emea", "apac", "amer")
    for i in range(rows):
        day = 1 + (i + seed) % 28
        lines.append(f"2026-01-{day:02d},{regions[i % 3]},widget-{(i + seed) % 7},{1 + i % 5},9.99")
    return ("\n".join(lines) + "\n").encode()


class AppClient:
    """A signed-in user of the app behind one published port (``http://127.0.0.1:<port>``)."""

    def __init__(self, port: int, username: str, password: str, timeout: float = 10.0) -> None:
        self.username = username
        self.password = password
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=timeout)

    def sign_in(self) -> None:
        """AssertionError unless the app accepts the credentials."""
        reply = self.http.post(
            "/api/auth/sign-in", json={"username": self.username, "password": self.password}
        )
        assert reply.status_code == 200, reply.text

    def upload(self, csv: bytes) -> httpx.Response:
        """POST the CSV as a raw text/csv body; 202 with ``import_id`` when accepted."""
        return self.http.post("/api/imports", content=csv, headers={"Content-Type": "text/csv"})

    def import_status(self, import_id: str) -> dict[str, object]:
        reply = self.http.get(f"/api/imports/{import_id}")
        assert reply.status_code == 200, reply.text
        status: dict[str, object] = reply.json()
        return status

    def close(self) -> None:
        self.http.close()


@dataclass(frozen=True)
class Outcome:
    """One upload of the load: when it was sent and answered, and what came back."""

    sent: float
    answered: float
    status: int  # 0: no HTTP answer (connection refused, timeout)
    import_id: str | None
    rows: int


def longest_gap(outcomes: Sequence[Outcome], start: float, end: float, *, ok: int = 202) -> float:
    """Longest time within [start, end] with no request answered ``ok`` (seconds)."""
    answered = sorted(o.answered for o in outcomes if o.status == ok and start <= o.answered <= end)
    marks = [start, *answered, end]
    return max(b - a for a, b in itertools.pairwise(marks))


class _Looper:
    """A thread that runs ``step`` every ``pace`` seconds until the context exits."""

    pace: float

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        turn = 0
        while not self._stop.is_set():
            sent = time.monotonic()
            self.outcomes.append(self.step(turn, sent))
            turn += 1
            self._stop.wait(max(0.0, self.pace - (time.monotonic() - sent)))

    def step(self, turn: int, sent: float) -> Outcome:
        raise NotImplementedError


class ImportLoad(_Looper):
    """Uploads a small CSV every LOAD_PACE_S seconds, round-robin over ``clients``, recording every
    outcome; a client whose session was lost signs in again."""

    pace = LOAD_PACE_S

    def __init__(self, clients: Sequence[AppClient], rows: int = 5) -> None:
        super().__init__()
        self.clients = clients
        self.rows = rows

    def step(self, turn: int, sent: float) -> Outcome:
        client = self.clients[turn % len(self.clients)]
        status, import_id = 0, None
        try:
            reply = client.upload(sales_csv(self.rows, seed=turn))
            status = reply.status_code
            if status == 401:
                client.sign_in()
            if status == 202:
                import_id = str(uuid.UUID(reply.json()["import_id"]))
        except (httpx.HTTPError, AssertionError):
            pass
        return Outcome(sent, time.monotonic(), status, import_id, self.rows)

    @property
    def accepted(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == 202 and o.import_id is not None]


class Probe(_Looper):
    """GETs ``path`` through ``client`` every ``pace`` seconds (not rate limited, unlike uploads),
    to time an outage finer than the upload pace."""

    def __init__(self, client: AppClient, path: str, pace: float = 0.2) -> None:
        super().__init__()
        self.client = client
        self.path = path
        self.pace = pace

    def step(self, turn: int, sent: float) -> Outcome:
        try:
            status = self.client.http.get(self.path).status_code
        except httpx.HTTPError:
            status = 0
        return Outcome(sent, time.monotonic(), status, None, 0)
