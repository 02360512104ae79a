"""images/alert-receiver/alert_receiver.py as the container runs it: a real process on a free
loopback port, fed an Alertmanager webhook payload, read back over HTTP."""

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.infra.deployed import wait_for

PROGRAM = Path(__file__).resolve().parents[2] / "images" / "alert-receiver" / "alert_receiver.py"
PAYLOAD = {
    "version": "4",
    "status": "firing",
    "receiver": "webhook",
    "groupLabels": {"alertname": "RedisMasterDown", "stack": "dev"},
    "alerts": [{"status": "firing", "labels": {"alertname": "RedisMasterDown"}}],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def receiver() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(PROGRAM)],
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool | None:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200 or None
        except httpx.TransportError:
            return None

    try:
        wait_for("alert-receiver answering /healthz", healthy, timeout=30, interval=0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


def test_records_what_it_is_sent_and_serves_it_back(receiver: str) -> None:
    assert httpx.get(f"{receiver}/notifications", timeout=5).json() == []
    posted = httpx.post(f"{receiver}/alerts", json=PAYLOAD, timeout=5)
    assert posted.status_code == 200
    resolved = {**PAYLOAD, "status": "resolved"}
    assert httpx.post(f"{receiver}/alerts", json=resolved, timeout=5).status_code == 200
    recorded = httpx.get(f"{receiver}/notifications", timeout=5).json()
    assert [entry["payload"] for entry in recorded] == [PAYLOAD, resolved]
    assert recorded[0]["received"] <= recorded[1]["received"]


@pytest.mark.parametrize(
    ("body", "status"), [(b"not json", 400), (b"[1, 2]", 400), (json.dumps("x").encode(), 400)]
)
def test_refuses_a_body_that_is_not_a_json_object(receiver: str, body: bytes, status: int) -> None:
    reply = httpx.post(f"{receiver}/alerts", content=body, timeout=5)
    assert reply.status_code == status
    assert httpx.get(f"{receiver}/notifications", timeout=5).json() == []


def test_refuses_a_body_over_the_limit_and_unknown_paths(receiver: str) -> None:
    reply = httpx.post(f"{receiver}/alerts", content=b"x" * ((1 << 20) + 1), timeout=10)
    assert reply.status_code == 413
    assert httpx.get(f"{receiver}/other", timeout=5).status_code == 404
    assert httpx.post(f"{receiver}/other", json={}, timeout=5).status_code == 404


def test_check_mode_and_a_bad_port() -> None:
    run = subprocess.run(
        [sys.executable, str(PROGRAM), "--check", f"http://127.0.0.1:{_free_port()}/healthz"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert run.returncode == 1
    bad = subprocess.run(
        [sys.executable, str(PROGRAM)],
        env={**os.environ, "PORT": "http"}, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert bad.returncode == 78
    assert "PORT: 'http' is not a port; for example PORT=9095" in bad.stderr
