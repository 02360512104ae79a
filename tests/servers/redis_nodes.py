"""Real Redis deployments for the tests: Debian's redis-server / redis-sentinel on free loopback
ports in temp dirs, password-protected (``requirepass`` + ``masterauth``; Sentinels have their own
password), so the password wiring of app_support.redis is exercised.

Fixtures (registered in tests/conftest.py through ``pytest_plugins``):

``redis_standalone`` / ``redis_sentinel`` / ``redis_cluster`` (session scope) -> RedisDeployment
    One node; a master + 2 replicas + 3 Sentinels (quorum 2, down-after-milliseconds 1000);
    a 6-node cluster (3 masters, 3 replicas, ``redis-cli --cluster create``). Started on first use.
``redis_any`` (function scope, parametrized ``standalone`` | ``sentinel`` | ``cluster``)
    The session deployment of that mode, flushed (FLUSHALL on every master) before the test.
``redis_drill_sentinel`` (function scope)
    A fresh, private Sentinel group for failover drills: kill its master freely.
``redis_drill_cluster`` (function scope)
    A fresh, private 6-node cluster (``cluster-node-timeout`` 2000 ms) for failover drills.

RedisDeployment attributes and methods:

- ``mode``: ``"standalone"`` | ``"sentinel"`` | ``"cluster"``.
- ``environ``: the REDIS_* variables the app would get (``RedisSettings.from_env(dep.environ)``),
  including ``REDIS_PASSWORD`` and, for sentinel, ``REDIS_SENTINEL_PASSWORD``.
- ``password``, ``sentinel_password``, ``master_name``, ``down_after_ms``, ``node_timeout_ms``
  (cluster mode: ``cluster-node-timeout``).
- ``nodes`` (data nodes) and ``sentinels``: lists of RedisNode (``name``, ``port``, ``address``,
  ``pid``, ``kill()``, ``stop()``, ``cont()``, ``start()``, ``restart()``, ``client()``).
- ``node(role)``: ``"master"`` (the current master; in cluster mode the master of slot 0),
  ``"replica"`` (a current replica of it), ``"sentinel"`` or a node name (``"node-0"``,
  ``"sentinel-1"``).
- ``kill(role)`` (SIGKILL), ``stop(role)`` (SIGSTOP), ``cont(role)``, ``restart(role)``: return the
  RedisNode acted on (keep it: after a failover ``"master"`` names another node).
- ``master_address() -> (host, port)``: what the Sentinels say now (standalone: the node; cluster:
  the master of slot 0).
- ``wait_for_new_master(old, timeout)``: blocks until the Sentinels name another master.
- ``sentinel_failover(via=None)``: ``SENTINEL FAILOVER`` issued by hand (as an operator would) on
  ``via`` or the first live Sentinel; returns the old master's address.
- ``node_at(address)``: the data node listening there.
- ``wait_for_sentinels_to_agree(address, timeout)``: blocks until every live Sentinel names it.
- ``flush()``: FLUSHALL on every master, then WAIT for replicas.

Servers get SIGKILL when the test process dies, however it dies (PR_SET_PDEATHSIG), so a killed
pytest leaves no orphans; ``close()`` also removes the temp dir.

Tests that act on a session deployment must restore it (``cont``/``restart``) before they finish;
drills use ``redis_drill_sentinel``. The classes are importable for benchmarks:
``start_standalone()``, ``start_sentinel_group()``, ``start_cluster(node_timeout_ms=2000)`` (call
``close()``).
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

__all__ = [
    "RedisDeployment",
    "RedisNode",
    "redis_any",
    "redis_cluster",
    "redis_drill_cluster",
    "redis_drill_sentinel",
    "redis_sentinel",
    "redis_standalone",
    "start_cluster",
    "start_sentinel_group",
    "start_standalone",
]

HOST = "127.0.0.1"
MASTER_NAME = "mymaster"
DOWN_AFTER_MS = 1000
NODE_TIMEOUT_MS = 2000
START_TIMEOUT = 20.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: SIGKILL when the test process dies, even by SIGKILL (no orphan servers)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _wait(predicate: object, what: str, timeout: float = START_TIMEOUT) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except redis.RedisError as error:
            last = error
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what} (last error: {last})")


@dataclass
class RedisNode:
    """One redis-server or redis-sentinel process with its config in ``directory``."""

    name: str
    port: int
    directory: Path
    config: str
    password: str
    sentinel: bool = False
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> tuple[str, int]:
        return (HOST, self.port)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        """Start the process (config written on first start) and wait until it answers PING."""
        conf = self.directory / ("sentinel.conf" if self.sentinel else "redis.conf")
        if not conf.exists():
            conf.write_text(self.config)
        binary = "redis-sentinel" if self.sentinel else "redis-server"
        self.process = subprocess.Popen(
            [binary, str(conf)],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        _wait(lambda: self.client(timeout=0.5).ping(), f"{self.name} on port {self.port}")

    def client(self, timeout: float = 2.0) -> redis.Redis:
        return redis.Redis(
            host=HOST,
            port=self.port,
            password=self.password,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            decode_responses=True,
        )

    def kill(self) -> None:
        """SIGKILL and reap (a stopped process is continued first so it can die)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGSTOP: the process keeps its sockets open but answers nothing."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def cont(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        self.kill()
        self.start()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class RedisDeployment:
    """A started set of nodes; see the module docstring."""

    mode: str
    root: Path
    password: str
    sentinel_password: str | None = None
    master_name: str = MASTER_NAME
    down_after_ms: int = DOWN_AFTER_MS
    node_timeout_ms: int = NODE_TIMEOUT_MS
    nodes: list[RedisNode] = field(default_factory=list)
    sentinels: list[RedisNode] = field(default_factory=list)

    @property
    def environ(self) -> dict[str, str]:
        env = {"REDIS_MODE": self.mode, "REDIS_PASSWORD": self.password}
        if self.mode == "standalone":
            env["REDIS_URL"] = f"redis://{HOST}:{self.nodes[0].port}/0"
        elif self.mode == "sentinel":
            env["REDIS_SENTINEL_HOSTS"] = ",".join(f"{HOST}:{s.port}" for s in self.sentinels)
            env["REDIS_MASTER_NAME"] = self.master_name
            assert self.sentinel_password is not None
            env["REDIS_SENTINEL_PASSWORD"] = self.sentinel_password
        else:
            env["REDIS_CLUSTER_NODES"] = ",".join(f"{HOST}:{n.port}" for n in self.nodes[:3])
        return env

    def master_address(self) -> tuple[str, int]:
        if self.mode == "standalone":
            return self.nodes[0].address
        if self.mode == "sentinel":
            for sentinel in self.sentinels:
                if not sentinel.alive:
                    continue
                try:
                    host, port = sentinel.client(timeout=0.5).execute_command(  # type: ignore[no-untyped-call]
                        "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.master_name
                    )
                except redis.RedisError:
                    continue
                return (host, int(port))
            raise RuntimeError("no Sentinel answered")
        for node in self._live_nodes():
            try:
                slots = node.client(timeout=0.5).cluster("slots")
            except redis.RedisError:
                continue
            for start, _end, primary, *_replicas in slots:
                if int(start) == 0:
                    return (HOST, int(primary[1]))
        raise RuntimeError("no cluster node answered")

    def node(self, role: str) -> RedisNode:
        by_name = {n.name: n for n in [*self.nodes, *self.sentinels]}
        if role in by_name:
            return by_name[role]
        if role == "sentinel":
            return self.sentinels[0]
        master_port = self.master_address()[1]
        master = next(n for n in self.nodes if n.port == master_port)
        if role == "master":
            return master
        if role == "replica":
            replicas = master.client().info("replication")
            port = int(replicas["slave0"]["port"])
            return next(n for n in self.nodes if n.port == port)
        raise ValueError(f"unknown role {role!r}: use master, replica, sentinel or a node name")

    def kill(self, role: str) -> RedisNode:
        node = self.node(role)
        node.kill()
        return node

    def stop(self, role: str) -> RedisNode:
        node = self.node(role)
        node.stop()
        return node

    def cont(self, role: str) -> RedisNode:
        node = self.node(role)
        node.cont()
        return node

    def restart(self, role: str) -> RedisNode:
        node = self.node(role)
        node.restart()
        return node

    def wait_for_new_master(self, old: tuple[str, int], timeout: float = 15.0) -> tuple[str, int]:
        _wait(lambda: self.master_address() != old, "a new master", timeout)
        new = self.master_address()
        node = next(n for n in self.nodes if n.port == new[1])
        _wait(lambda: node.client().info("replication")["role"] == "master", "promotion", timeout)
        return new

    def sentinel_failover(self, via: RedisNode | None = None) -> tuple[str, int]:
        old = self.master_address()
        sentinel = via or next(s for s in self.sentinels if s.alive)
        sentinel.client().execute_command("SENTINEL", "FAILOVER", self.master_name)  # type: ignore[no-untyped-call]
        return old

    def node_at(self, address: tuple[str, int]) -> RedisNode:
        return next(n for n in self.nodes if n.address == address)

    def wait_for_sentinels_to_agree(self, address: tuple[str, int], timeout: float = 15.0) -> None:
        def agree() -> bool:
            for sentinel in self.sentinels:
                if not sentinel.alive:
                    continue
                host, port = sentinel.client(timeout=0.5).execute_command(  # type: ignore[no-untyped-call]
                    "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.master_name
                )
                if (host, int(port)) != address:
                    return False
            return True

        _wait(agree, f"every Sentinel to name {address}", timeout)

    def flush(self) -> None:
        masters = (
            [self.node("master")]
            if self.mode != "cluster"
            else [
                n for n in self._live_nodes() if n.client().info("replication")["role"] == "master"
            ]
        )
        for master in masters:
            client = master.client()
            client.flushall()
            if self.mode != "standalone":
                client.execute_command("WAIT", 1, 2000)  # type: ignore[no-untyped-call]

    def close(self) -> None:
        for node in [*self.sentinels, *self.nodes]:
            if node.process is not None and node.process.poll() is None:
                node.cont()
                node.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def _live_nodes(self) -> list[RedisNode]:
        return [n for n in self.nodes if n.alive]


def _pairs(flat: object) -> dict[str, object]:
    if isinstance(flat, dict):
        return flat
    assert isinstance(flat, list)
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _server_config(node_dir: Path, port: int, password: str, extra: str = "") -> str:
    return (
        f"bind {HOST}\nport {port}\ndir {node_dir}\nlogfile {node_dir / 'redis.log'}\n"
        f'daemonize no\nsave ""\nappendonly no\nrequirepass {password}\n'
        f"masterauth {password}\nrepl-diskless-sync yes\nrepl-diskless-sync-delay 0\n{extra}"
    )


def _new_node(root: Path, name: str, password: str, extra: str = "") -> RedisNode:
    node_dir = root / name
    node_dir.mkdir()
    port = free_port()
    return RedisNode(
        name=name,
        port=port,
        directory=node_dir,
        config=_server_config(node_dir, port, password, extra),
        password=password,
    )


def _close_on_error(deployment: RedisDeployment, start: object) -> RedisDeployment:
    assert callable(start)
    try:
        start()
    except BaseException:
        deployment.close()
        raise
    return deployment


def start_standalone() -> RedisDeployment:
    """One password-protected redis-server."""
    root = Path(tempfile.mkdtemp(prefix="redis-standalone-"))
    dep = RedisDeployment(mode="standalone", root=root, password=secrets.token_hex(8))
    dep.nodes.append(_new_node(root, "node-0", dep.password))
    return _close_on_error(dep, dep.nodes[0].start)


def start_sentinel_group(down_after_ms: int = DOWN_AFTER_MS) -> RedisDeployment:
    """A master, 2 replicas and 3 Sentinels (quorum 2), all password-protected."""
    root = Path(tempfile.mkdtemp(prefix="redis-sentinel-"))
    dep = RedisDeployment(
        mode="sentinel",
        root=root,
        password=secrets.token_hex(8),
        sentinel_password=secrets.token_hex(8),
        down_after_ms=down_after_ms,
    )
    master = _new_node(root, "node-0", dep.password)
    dep.nodes.append(master)
    for i in (1, 2):
        dep.nodes.append(
            _new_node(root, f"node-{i}", dep.password, f"replicaof {HOST} {master.port}\n")
        )
    for i in range(3):
        sentinel_dir = root / f"sentinel-{i}"
        sentinel_dir.mkdir()
        port = free_port()
        dep.sentinels.append(
            RedisNode(
                name=f"sentinel-{i}",
                port=port,
                directory=sentinel_dir,
                password=dep.sentinel_password or "",
                sentinel=True,
                config=(
                    f"bind {HOST}\nport {port}\ndir {sentinel_dir}\n"
                    f"logfile {sentinel_dir / 'sentinel.log'}\ndaemonize no\n"
                    f"sentinel monitor {MASTER_NAME} {HOST} {master.port} 2\n"
                    f"sentinel auth-pass {MASTER_NAME} {dep.password}\n"
                    f"sentinel down-after-milliseconds {MASTER_NAME} {down_after_ms}\n"
                    f"sentinel failover-timeout {MASTER_NAME} 4000\n"
                    f"sentinel parallel-syncs {MASTER_NAME} 2\n"
                    f"requirepass {dep.sentinel_password}\n"
                    f"sentinel sentinel-pass {dep.sentinel_password}\n"
                ),
            )
        )

    def start() -> None:
        for node in [*dep.nodes, *dep.sentinels]:
            node.start()
        _wait(
            lambda: (
                master.client().info("replication")["connected_slaves"] == 2
                and all(
                    master.client().info("replication")[f"slave{i}"]["state"] == "online"
                    for i in (0, 1)
                )
            ),
            "replicas online",
        )

        def sentinels_agree() -> bool:
            for sentinel in dep.sentinels:
                client = sentinel.client()
                state = _pairs(
                    client.execute_command("SENTINEL", "MASTER", MASTER_NAME)  # type: ignore[no-untyped-call]
                )
                if (
                    int(str(state["num-other-sentinels"])) != 2
                    or int(str(state["num-slaves"])) != 2
                ):
                    return False
            return True

        _wait(sentinels_agree, "Sentinels to discover each other and the replicas")

    return _close_on_error(dep, start)


def start_cluster(node_timeout_ms: int = NODE_TIMEOUT_MS) -> RedisDeployment:
    """6 password-protected nodes joined by ``redis-cli --cluster create --cluster-replicas 1``."""
    root = Path(tempfile.mkdtemp(prefix="redis-cluster-"))
    dep = RedisDeployment(
        mode="cluster", root=root, password=secrets.token_hex(8), node_timeout_ms=node_timeout_ms
    )
    for i in range(6):
        extra = (
            "cluster-enabled yes\ncluster-config-file nodes.conf\n"
            f"cluster-node-timeout {node_timeout_ms}\n"
            f"cluster-port {free_port()}\n"
            # CLUSTER SLOTS hides a replica until its offset moves; pinging every second moves
            # it in ~1 s instead of the default 10 s.
            "repl-ping-replica-period 1\n"
        )
        dep.nodes.append(_new_node(root, f"node-{i}", dep.password, extra))

    def start() -> None:
        for node in dep.nodes:
            node.start()
        subprocess.run(
            [
                "redis-cli",
                "--no-auth-warning",
                "-a",
                dep.password,
                "--cluster",
                "create",
                *(f"{HOST}:{n.port}" for n in dep.nodes),
                "--cluster-replicas",
                "1",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
            env={**os.environ, "REDISCLI_AUTH": dep.password},
        )

        def converged() -> bool:
            for node in dep.nodes:
                client = node.client()
                info = client.cluster("info")
                if info["cluster_state"] != "ok" or int(info["cluster_known_nodes"]) != 6:
                    return False
                # Every node must also know each master's replica (gossip lags the create).
                if [len(shard) for shard in client.cluster("slots")] != [4, 4, 4]:
                    return False
            return True

        _wait(converged, "cluster_state:ok and a replica per master on all 6 nodes", 30)

    return _close_on_error(dep, start)


@pytest.fixture(scope="session")
def redis_standalone() -> Iterator[RedisDeployment]:
    dep = start_standalone()
    yield dep
    dep.close()


@pytest.fixture(scope="session")
def redis_sentinel() -> Iterator[RedisDeployment]:
    dep = start_sentinel_group()
    yield dep
    dep.close()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisDeployment]:
    dep = start_cluster()
    yield dep
    dep.close()


@pytest.fixture(params=["standalone", "sentinel", "cluster"])
def redis_any(request: pytest.FixtureRequest) -> RedisDeployment:
    dep: RedisDeployment = request.getfixturevalue(f"redis_{request.param}")
    dep.flush()
    return dep


@pytest.fixture
def redis_drill_sentinel() -> Iterator[RedisDeployment]:
    dep = start_sentinel_group()
    yield dep
    dep.close()


@pytest.fixture
def redis_drill_cluster() -> Iterator[RedisDeployment]:
    dep = start_cluster()
    yield dep
    dep.close()
