"""images/postgres/postgres-entrypoint run on this host with Debian's PostgreSQL 15: a first start
killed half-way is started again, a volume it never initialised is refused, and a finished one
serves the network logins (the Swarm test cluster once left a volume without them)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.servers.postgres_server import PG_BIN, free_port

ENTRYPOINT = Path(__file__).resolve().parents[2] / "images" / "postgres" / "postgres-entrypoint"
MARKER = ".ha-stack-initdb-incomplete"
PASSWORD = "s3cret-entrypoint"


@pytest.fixture
def volume() -> Iterator[Path]:
    """An empty data directory owned by the user the entrypoint runs as (postgres when root)."""
    base = Path(tempfile.mkdtemp(prefix="pg-entrypoint-"))
    data = base / "data"
    data.mkdir(mode=0o700)
    if os.getuid() == 0:
        entry = pwd.getpwnam("postgres")
        for path in (base, data):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    yield data
    shutil.rmtree(base, ignore_errors=True)


def _own(path: Path) -> None:
    if os.getuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _start(data: Path, port: int) -> subprocess.Popen[str]:
    env = {
        "PATH": f"{PG_BIN}:/usr/bin:/bin",
        "PGDATA": str(data),
        "POSTGRES_USER": "app",
        "POSTGRES_DB": "app",
        "POSTGRES_PASSWORD": PASSWORD,
        "TMPDIR": str(data.parent),
    }
    # A copy next to the data: the checkout may sit in a directory the postgres user cannot read.
    script = data.parent / "postgres-entrypoint"
    shutil.copyfile(ENTRYPOINT, script)
    _own(script)
    argv = [
        "bash", str(script),
        "-c", f"port={port}", "-c", f"unix_socket_directories={data.parent}",
        "-c", "fsync=off",
    ]  # fmt: skip
    if os.getuid() == 0:
        runuser = shutil.which("runuser")
        assert runuser, "runuser (util-linux) runs the entrypoint as postgres under root"
        pairs = [f"{key}={value}" for key, value in env.items()]
        argv = [runuser, "-u", "postgres", "--", "env", *pairs, *argv]
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _connect_by_password(port: int, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            with psycopg.connect(
                host="127.0.0.1", port=port, user="app", password=PASSWORD, dbname="app",
                connect_timeout=3,
            ) as conn:  # fmt: skip
                assert conn.execute("SELECT 1").fetchone() == (1,)
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _stop(server: subprocess.Popen[str]) -> str:
    # SIGTERM: runuser passes it on (not SIGINT); postgres then shuts down smartly.
    server.send_signal(signal.SIGTERM)
    out, _ = server.communicate(timeout=60)
    return out


def test_a_fresh_volume_serves_password_logins_and_keeps_no_marker(volume: Path) -> None:
    port = free_port()
    server = _start(volume, port)
    try:
        _connect_by_password(port)
    finally:
        _stop(server)
    assert (volume / "PG_VERSION").read_text().strip() == "15"
    assert not (volume / MARKER).exists()


def test_an_interrupted_first_start_is_started_again(volume: Path) -> None:
    # What a first start killed while copying leaves: the marker, some files, no PG_VERSION.
    for name in (MARKER, "postgresql.conf"):
        (volume / name).write_text("")
        _own(volume / name)
    port = free_port()
    server = _start(volume, port)
    try:
        _connect_by_password(port)
    finally:
        out = _stop(server)
    assert "was interrupted; starting it again" in out
    assert not (volume / MARKER).exists()


def test_a_volume_it_never_initialised_is_refused_untouched(volume: Path) -> None:
    foreign = volume / "someone-elses-file"
    foreign.write_text("keep me")
    _own(foreign)
    server = _start(volume, free_port())
    out, _ = server.communicate(timeout=60)
    assert server.returncode == 1
    assert "refusing to touch it (empty the volume or mount the right one)" in out
    assert foreign.read_text() == "keep me"
