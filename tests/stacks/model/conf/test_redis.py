"""Real redis-server and redis-sentinel accept the rendered configs and apply their settings.

Each process runs the rendered file on a free loopback port in a temp dir (the container's
bind address, port and dir are overridden on the command line, which Redis lets win).
"""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pytest
import redis

from stacks.compose.files import rendered_files
from stacks.model import stack_topology


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(
    binary: str, conf: Path, workdir: Path, cluster: bool
) -> tuple[subprocess.Popen[bytes], redis.Redis]:
    """Start on a free port; retries when another process took the port first (bounded)."""
    for _ in range(3):
        port = _free_port()
        argv = [binary, str(conf), "--port", str(port), "--bind", "127.0.0.1"]
        argv += ["--dir", str(workdir)]
        if cluster:  # the bus port defaults to port + 10000, past 65535 for high free ports
            argv += ["--cluster-port", str(_free_port())]
        log = workdir / "redis.log"  # Redis logs startup errors to stdout
        with log.open("wb") as output:
            process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, decode_responses=True)
        deadline = time.monotonic() + 60  # generous: the machine is shared and often loaded
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                client.ping()
                return process, client
            except (redis.ConnectionError, redis.TimeoutError):
                time.sleep(0.05)
        client.close()
        process.kill()
        process.wait(timeout=10)
        error = log.read_bytes()
        if b"Address already in use" not in error:
            raise AssertionError(f"{binary} did not start: {error!r}")
    raise AssertionError(f"{binary}: no free port after 3 attempts")


@contextmanager
def _running(
    binary: str, conf: Path, workdir: Path, *, cluster: bool = False
) -> Iterator[redis.Redis]:
    process, client = _start(binary, conf, workdir, cluster)
    try:
        yield client
    finally:
        client.close()
        process.kill()
        process.wait(timeout=10)


def test_redis_server_runs_the_rendered_replica_config(tmp_path: Path) -> None:
    conf = tmp_path / "redis.conf"
    conf.write_text(rendered_files(stack_topology("dev"))["redis/redis-1.conf"])
    with _running(shutil.which("redis-server") or "redis-server", conf, tmp_path) as client:
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
        assert client.config_get("repl-diskless-sync-delay") == {"repl-diskless-sync-delay": "0"}
        assert client.config_get("replica-announce-ip") == {"replica-announce-ip": "172.28.10.11"}
        assert client.config_get("replicaof") == {"replicaof": "172.28.10.10 6379"}


def test_redis_server_runs_the_rendered_cluster_node_config(tmp_path: Path) -> None:
    files = rendered_files(stack_topology("dev", {"ha-stack:redisMode": "cluster"}))
    conf = tmp_path / "redis.conf"
    conf.write_text(files["redis/redis-cluster-2.conf"])
    server = shutil.which("redis-server") or "redis-server"
    with _running(server, conf, tmp_path, cluster=True) as client:
        assert client.config_get("cluster-announce-ip") == {"cluster-announce-ip": "172.28.10.32"}
        assert client.info("cluster")["cluster_enabled"] == 1


def test_sentinel_runs_the_rendered_config_and_monitors_by_ip(tmp_path: Path) -> None:
    conf = tmp_path / "sentinel.conf"  # writable, as the entrypoint's copy is
    conf.write_text(rendered_files(stack_topology("dev"))["sentinel/sentinel-0.conf"])
    sentinel = shutil.which("redis-sentinel") or "redis-sentinel"
    with _running(sentinel, conf, tmp_path) as client:
        master = cast(dict[str, Any], client.sentinel_master("mymaster"))
        assert (master["ip"], master["port"], master["quorum"]) == ("172.28.10.10", 6379, 2)
        assert master["down-after-milliseconds"] == 2000
        assert master["failover-timeout"] == 5000
        assert master["parallel-syncs"] == 1
        get = ("SENTINEL", "CONFIG", "GET", "resolve-hostnames")
        assert client.execute_command(*get) == {  # type: ignore[no-untyped-call]
            "resolve-hostnames": "no"
        }


def test_a_master_without_its_replica_refuses_writes(tmp_path: Path) -> None:
    # redis-0's rendered config alone (its replica is not running): NOREPLICAS, reads still work.
    conf = tmp_path / "redis.conf"
    conf.write_text(rendered_files(stack_topology("dev"))["redis/redis-0.conf"])
    with _running(shutil.which("redis-server") or "redis-server", conf, tmp_path) as client:
        assert client.config_get("min-replicas-to-write") == {"min-replicas-to-write": "1"}
        assert client.config_get("min-replicas-max-lag") == {"min-replicas-max-lag": "2"}
        with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
            client.set("k", "v")
        assert client.get("k") is None
