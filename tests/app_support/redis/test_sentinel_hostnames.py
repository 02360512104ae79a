"""The Sentinel client with hostnames (issue 16, platform swarm): Sentinels that resolve and
announce hostnames, data nodes announcing a hostname, REDIS_SENTINEL_HOSTS naming hosts. Real
redis-server and redis-sentinel processes on loopback, addressed as ``localhost`` (the stacks'
Swarm services are addressed by service name the same way).

The client finds the master by name, follows a failover announced with hostnames in
``+switch-master`` (the watcher drops the old master's connections), and writes land on the new
master; the ROLE check on connect accepts a hostname-named master.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from app_support.redis import RedisSettings, create_client
from app_support.redis.clients import FailoverRedis
from tests.servers.redis_nodes import RedisNode, free_port

NAME = "localhost"  # resolves to 127.0.0.1 only here, where the servers listen
MASTER = "mymaster"


def _pairs(reply: Any) -> dict[str, Any]:
    """A Sentinel reply as a mapping (redis-py parses some into dicts, others stay flat lists)."""
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[::2], reply[1::2], strict=True))


def _wait(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class _Group:
    """A master, 2 replicas and 3 Sentinels (quorum 2) that know each other by hostname."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="redis-hostnames-"))
        self.password = secrets.token_hex(8)
        self.sentinel_password = secrets.token_hex(8)
        self.nodes: list[RedisNode] = []
        self.sentinels: list[RedisNode] = []
        master_port = free_port()
        for i in range(3):
            port = master_port if i == 0 else free_port()
            replica = f"replicaof {NAME} {master_port}\n" if i else ""
            self.nodes.append(self._node(f"node-{i}", port, self._server_conf(port, replica)))
        for i in range(3):
            port = free_port()
            self.sentinels.append(
                self._node(f"sentinel-{i}", port, self._sentinel_conf(port, master_port), True)
            )

    def _node(self, name: str, port: int, config: str, sentinel: bool = False) -> RedisNode:
        directory = self.root / name
        directory.mkdir()
        config = config.replace("@DIR@", str(directory))
        password = self.sentinel_password if sentinel else self.password
        return RedisNode(name, port, directory, config, password, sentinel=sentinel)

    def _server_conf(self, port: int, extra: str) -> str:
        # What stacks.model.conf.redis renders on swarm: the node announces its name.
        return (
            f"bind 127.0.0.1\nport {port}\ndir @DIR@\nlogfile @DIR@/redis.log\n"
            f'daemonize no\nsave ""\nappendonly no\nrequirepass {self.password}\n'
            f"masterauth {self.password}\nrepl-diskless-sync yes\nrepl-diskless-sync-delay 0\n"
            f"replica-announce-ip {NAME}\n{extra}"
        )

    def _sentinel_conf(self, port: int, master_port: int) -> str:
        # What stacks.model.conf.redis renders on swarm (hostnames=True).
        return (
            f"bind 127.0.0.1\nport {port}\ndir @DIR@\nlogfile @DIR@/sentinel.log\n"
            "daemonize no\nsentinel resolve-hostnames yes\nsentinel announce-hostnames yes\n"
            f"sentinel announce-ip {NAME}\n"
            f"sentinel monitor {MASTER} {NAME} {master_port} 2\n"
            f"sentinel auth-pass {MASTER} {self.password}\n"
            f"sentinel down-after-milliseconds {MASTER} 1000\n"
            f"sentinel failover-timeout {MASTER} 4000\n"
            f"requirepass {self.sentinel_password}\n"
            f"sentinel sentinel-pass {self.sentinel_password}\n"
        )

    @property
    def environ(self) -> dict[str, str]:
        return {
            "REDIS_MODE": "sentinel",
            "REDIS_PASSWORD": self.password,
            "REDIS_SENTINEL_HOSTS": ",".join(f"{NAME}:{s.port}" for s in self.sentinels),
            "REDIS_SENTINEL_PASSWORD": self.sentinel_password,
            "REDIS_MASTER_NAME": MASTER,
        }

    def master_addresses(self) -> set[tuple[str, int]]:
        """What every live Sentinel names the master (one entry when they agree)."""
        answers = set()
        for sentinel in self.sentinels:
            try:
                host, port = sentinel.client(timeout=0.5).execute_command(  # type: ignore[no-untyped-call]
                    "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER
                )
            except redis.RedisError:
                answers.add(("?", 0))
                continue
            answers.add((str(host), int(port)))
        return answers

    def settled(self) -> bool:
        for sentinel in self.sentinels:
            state = sentinel.client().execute_command("SENTINEL", "MASTER", MASTER)  # type: ignore[no-untyped-call]
            pairs = _pairs(state)
            if int(pairs["num-other-sentinels"]) != 2 or int(pairs["num-slaves"]) != 2:
                return False
        return True

    def start(self) -> None:
        for node in [*self.nodes, *self.sentinels]:
            node.start()
        master = self.nodes[0]
        _wait(lambda: master.client().info("replication")["connected_slaves"] == 2, "replicas")
        _wait(self.settled, "Sentinels to find each other and the replicas")

    def close(self) -> None:
        for node in [*self.sentinels, *self.nodes]:
            node.kill()


@pytest.fixture
def group() -> Iterator[_Group]:
    started = _Group()
    try:
        started.start()
        yield started
    finally:
        started.close()


def test_sentinels_name_the_master_and_replicas_by_hostname(group: _Group) -> None:
    assert group.master_addresses() == {(NAME, group.nodes[0].port)}
    replicas = group.sentinels[0].client().execute_command("SENTINEL", "REPLICAS", MASTER)  # type: ignore[no-untyped-call]
    hosts = {_pairs(r)["ip"] for r in replicas}
    assert hosts == {NAME}


def test_the_client_follows_a_failover_announced_with_hostnames(group: _Group) -> None:
    client = create_client(RedisSettings.from_env(group.environ))
    assert isinstance(client, FailoverRedis)
    watcher = client.switch_watcher
    assert watcher is not None
    try:
        client.set("before", "1")
        assert int(client.info("server")["tcp_port"]) == group.nodes[0].port
        _wait(lambda: watcher.listening_to is not None, "the watcher to subscribe")
        assert watcher.listening_to is not None
        assert watcher.listening_to[0] == NAME
        group.sentinels[0].client().execute_command("SENTINEL", "FAILOVER", MASTER)  # type: ignore[no-untyped-call]
        _wait(lambda: watcher.switches, "the watcher to act on +switch-master")
        switch = watcher.switches[0]
        assert switch.old == (NAME, group.nodes[0].port)
        assert switch.new[0] == NAME
        assert switch.new[1] != group.nodes[0].port
        # The next write goes to the new master (by hostname, through the ROLE check).
        client.set("after", "2")
        assert int(client.info("server")["tcp_port"]) == switch.new[1]
        new_master = next(n for n in group.nodes if n.port == switch.new[1])
        assert new_master.client().get("after") == "2"
        assert new_master.client().get("before") == "1"
    finally:
        client.close()
