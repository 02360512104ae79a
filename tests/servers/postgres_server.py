"""A real PostgreSQL 15 server for the tests: initdb + pg_ctl on a free loopback port in a temp dir.

Fixtures (registered in tests/conftest.py through ``pytest_plugins``):

``postgres_server`` (session scope) -> :class:`PostgresServer`
    One server for the whole test session. Attributes and methods:

    - ``url``: ``DATABASE_URL`` of the password-authenticated, non-superuser role ``app`` on
      database ``app`` (``postgresql://app:<password>@127.0.0.1:<port>/app``).
    - ``environ``: ``{"DATABASE_URL": url}``, for ``DatabaseSettings.from_env(server.environ)``.
    - ``host``, ``port``, ``user``, ``password``, ``dbname``, ``superuser_url``, ``data_dir``.
    - ``stop()`` (fast shutdown: existing connections die; ``stop("immediate")`` crashes it),
      ``start()`` (same port, same data),
      ``restart()``; all block until the server is down or accepting connections;
      ``is_running()``.
    - ``create_database(name) -> str``: creates an empty database owned by ``app``, returns its
      URL.

``launch_postgres()`` starts one outside pytest (benchmarks); ``teardown()`` stops it and deletes
its files.

``postgres_database`` (module scope) -> :class:`PostgresDatabase`
    A fresh, empty database for one test module, on the session server: ``url``, ``environ``,
    ``name``, ``server``. Use it when a module creates tables, so modules never see each other's.

Tests that call ``stop()`` must call ``start()`` before they finish (use try/finally), because the
server is shared with the rest of the session.

``private_postgres`` (module scope) -> :class:`PostgresServer`
    A server of the test module's own, for drills that crash or stop it for long.

When the tests run as root, initdb refuses to run, so the server runs as the ``postgres`` system
user (``runuser``); its temp dir is handed over to that user.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

__all__ = [
    "PostgresDatabase",
    "PostgresServer",
    "free_port",
    "launch_postgres",
    "postgres_database",
    "postgres_server",
]

PG_BIN = Path("/usr/lib/postgresql/15/bin")
APP_USER = "app"
APP_DB = "app"
SUPERUSER = "postgres"
# Durability is worthless for a throwaway test cluster; these make start-up and DDL faster.
SERVER_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c listen_addresses=127.0.0.1 -c max_connections=100"
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in ``data_dir``, managed with pg_ctl."""

    port: int
    password: str
    superuser_password: str
    base_dir: Path
    run_as: str | None
    host: str = "127.0.0.1"
    user: str = APP_USER
    dbname: str = APP_DB
    _running: bool = field(default=False, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    @property
    def url(self) -> str:
        return self.url_for(self.dbname)

    @property
    def environ(self) -> dict[str, str]:
        return {"DATABASE_URL": self.url}

    @property
    def superuser_url(self) -> str:
        return (
            f"postgresql://{SUPERUSER}:{self.superuser_password}@{self.host}:{self.port}/postgres"
        )

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{dbname}"

    def _run(self, *argv: str) -> None:
        command = [str(PG_BIN / argv[0]), *argv[1:]]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
        if result.returncode != 0:
            log = self.log_file.read_text() if self.log_file.exists() else ""
            raise RuntimeError(
                f"{argv[0]} failed ({result.returncode}): {result.stderr}{result.stdout}\n{log}"
            )

    def init(self) -> None:
        pwfile = self.base_dir / "pwfile"
        pwfile.write_text(self.superuser_password + "\n")
        self._chown(pwfile)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "--encoding=UTF8",
            "--no-sync",
        )
        pwfile.unlink()
        # Another process may grab the port between free_port() and the bind: try a few.
        for attempt in range(3):
            try:
                self.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                self.port = free_port()
        with psycopg.connect(self.superuser_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(APP_USER), sql.Literal(self.password)
                )
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(APP_DB), sql.Identifier(APP_USER)
                )
            )

    def _chown(self, path: Path) -> None:
        if self.run_as is not None:
            entry = pwd.getpwnam(self.run_as)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self) -> None:
        """Start on the same port; returns once the server accepts connections."""
        options = f"-p {self.port} -k {self.base_dir} {SERVER_OPTIONS}"
        self._run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir),
            "-l", str(self.log_file), "-o", options,
        )  # fmt: skip
        self._running = True

    def stop(self, mode: str = "fast") -> None:
        """Fast shutdown: open connections are terminated, as in a real server restart.

        ``mode="immediate"`` is a crash as far as clients can tell (no goodbye to them, recovery
        at the next start)."""
        self._run("pg_ctl", "stop", "-w", "-t", "60", "-m", mode, "-D", str(self.data_dir))
        self._running = False

    def is_running(self) -> bool:
        return self._running

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str) -> str:
        """Create an empty database owned by the app role and return its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(
                f"database name {name!r} must match [a-z_][a-z0-9_]*, e.g. 'test_pool'"
            )
        with psycopg.connect(self.superuser_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(APP_USER)
                )
            )
        return self.url_for(name)

    def teardown(self) -> None:
        """Stop the server (immediate shutdown) and delete its files."""
        try:
            if self._running:
                data = str(self.data_dir)
                self._run("pg_ctl", "stop", "-w", "-t", "60", "-m", "immediate", "-D", data)
                self._running = False
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)


@dataclass(frozen=True)
class PostgresDatabase:
    """A database of its own on the session server."""

    server: PostgresServer
    name: str
    url: str

    @property
    def environ(self) -> dict[str, str]:
        return {"DATABASE_URL": self.url}


def launch_postgres() -> PostgresServer:
    """Start a throwaway server (benchmarks use it too); call ``teardown()`` when done."""
    run_as = SUPERUSER if os.geteuid() == 0 else None
    base_dir = Path(tempfile.mkdtemp(prefix="pytest-postgres-"))
    server = PostgresServer(
        port=free_port(),
        password=secrets.token_urlsafe(16),
        superuser_password=secrets.token_urlsafe(16),
        base_dir=base_dir,
        run_as=run_as,
    )
    server._chown(base_dir)
    try:
        server.init()
    except BaseException:
        server.teardown()
        raise
    return server


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL of the test module's own, for tests that stop or crash their server."""
    server = launch_postgres()
    try:
        yield server
    finally:
        server.teardown()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the test session (see the module docstring)."""
    server = launch_postgres()
    try:
        yield server
    finally:
        server.teardown()


@pytest.fixture(scope="module")
def postgres_database(
    postgres_server: PostgresServer, request: pytest.FixtureRequest
) -> PostgresDatabase:
    """A fresh database for the requesting test module, named after it."""
    module = request.module.__name__.rsplit(".", 1)[-1]
    name = re.sub(r"[^a-z0-9_]", "_", f"t_{module}".lower())[:63]
    return PostgresDatabase(postgres_server, name, postgres_server.create_database(name))
