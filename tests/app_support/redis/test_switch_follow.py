"""The client follows a Sentinel switch at once and leaves a node that is no longer master
(issue 11), sync and asyncio, against real servers.

The checks are deterministic: every write reports the port of the node that ran it
(switch_writer.py), and the watcher records the moment it dropped the old master's connections
(``Switch.at``). A write started after that moment must have been acknowledged by the new master;
no timing bound is asserted (benchmarks/redis_switchover.py measures the gaps).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from redis.exceptions import ResponseError

from app_support.redis import (
    RedisSettings,
    WriteNotConfirmedError,
    WriteRefusedError,
    create_async_client,
    create_client,
)
from app_support.redis.aclients import AsyncFailoverRedis
from app_support.redis.clients import FailoverRedis
from app_support.redis.sentinel_watch import parse_switch
from tests.app_support.redis.switch_writer import IDENTIFY, AsyncWriter, SyncWriter
from tests.servers.redis_nodes import RedisDeployment, RedisNode


def _settings(dep: RedisDeployment, **extra: str) -> RedisSettings:
    return RedisSettings.from_env({**dep.environ, **extra})


def _wait(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


async def _await(predicate: Callable[[], Any], what: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)


def _sentinel_at(dep: RedisDeployment, address: tuple[str, int] | None) -> RedisNode:
    return next(s for s in dep.sentinels if s.address == address)


def test_parse_switch_keeps_only_our_master() -> None:
    payload = b"mymaster 10.0.0.1 6379 10.0.0.2 6380"
    assert parse_switch(payload, "mymaster") == (("10.0.0.1", 6379), ("10.0.0.2", 6380))
    assert parse_switch(payload, "other") is None
    assert parse_switch("mymaster 10.0.0.1 6379", "mymaster") is None
    assert parse_switch("mymaster a b c d", "mymaster") is None


def test_sync_writes_go_to_the_new_master_once_the_switch_is_announced(
    redis_drill_sentinel: RedisDeployment,
) -> None:
    dep = redis_drill_sentinel
    client = create_client(_settings(dep))
    assert isinstance(client, FailoverRedis)
    watcher = client.switch_watcher
    assert watcher is not None
    try:
        assert not watcher.started  # it starts with the first command
        client.ping()
        _wait(lambda: watcher.listening_to is not None, "the watcher to subscribe")
        writer = SyncWriter(client).start()
        _wait(lambda: len(writer.log.acknowledged) > 20, "writes before the failover")
        old = dep.sentinel_failover()
        _wait(lambda: watcher.switches, "the watcher to act on +switch-master")
        switch = watcher.switches[0]
        _wait(lambda: len(writer.log.started_after(switch.at)) > 20, "writes after the switch")
        log = writer.stop()
    finally:
        client.close()
    new = dep.master_address()
    assert new != old
    assert (switch.old, switch.new) == (old, new)
    assert log.ports(log.started_after(switch.at)) == {new[1]}
    assert log.failed == 0  # the write in flight on the old master was retried, not failed
    assert not watcher.running


async def test_async_writes_go_to_the_new_master_once_the_switch_is_announced(
    redis_drill_sentinel: RedisDeployment,
) -> None:
    dep = redis_drill_sentinel
    client = create_async_client(_settings(dep))
    assert isinstance(client, AsyncFailoverRedis)
    watcher = client.switch_watcher
    assert watcher is not None
    try:
        assert not watcher.started
        await client.ping()
        await _await(lambda: watcher.listening_to is not None, "the watcher to subscribe")
        writer = AsyncWriter(client, tasks=4).start()
        await _await(lambda: len(writer.log.acknowledged) > 20, "writes before the failover")
        old = await asyncio.to_thread(dep.sentinel_failover)
        await _await(lambda: watcher.switches, "the watcher to act on +switch-master")
        switch = watcher.switches[0]
        await _await(
            lambda: len(writer.log.started_after(switch.at)) > 20, "writes after the switch"
        )
        log = await writer.stop()
    finally:
        await client.aclose()
    new = dep.master_address()
    assert new != old
    assert (switch.old, switch.new) == (old, new)
    assert log.ports(log.started_after(switch.at)) == {new[1]}
    assert log.failed == 0
    assert not watcher.running


def test_sync_watcher_skips_a_killed_sentinel(redis_drill_sentinel: RedisDeployment) -> None:
    dep = redis_drill_sentinel
    client = create_client(_settings(dep))
    assert isinstance(client, FailoverRedis)
    watcher = client.switch_watcher
    assert watcher is not None
    try:
        client.ping()
        _wait(lambda: watcher.listening_to is not None, "the watcher to subscribe")
        first = watcher.listening_to
        _sentinel_at(dep, first).kill()
        _wait(
            lambda: watcher.listening_to not in (None, first), "the watcher to move on", timeout=15
        )
        writer = SyncWriter(client).start()
        old = dep.sentinel_failover()
        _wait(lambda: watcher.switches, "the watcher to act on +switch-master")
        switch = watcher.switches[0]
        _wait(lambda: len(writer.log.started_after(switch.at)) > 20, "writes after the switch")
        log = writer.stop()
    finally:
        client.close()
    new = dep.master_address()
    assert (switch.old, switch.new) == (old, new)
    assert log.ports(log.started_after(switch.at)) == {new[1]}


async def test_async_watcher_leaves_a_frozen_sentinel(
    redis_drill_sentinel: RedisDeployment,
) -> None:
    dep = redis_drill_sentinel
    client = create_async_client(_settings(dep))
    assert isinstance(client, AsyncFailoverRedis)
    watcher = client.switch_watcher
    assert watcher is not None
    frozen: RedisNode | None = None
    try:
        await client.ping()
        await _await(lambda: watcher.listening_to is not None, "the watcher to subscribe")
        first = watcher.listening_to
        old = dep.master_address()
        frozen = _sentinel_at(dep, first)
        frozen.stop()  # SIGSTOP: the socket stays open, nothing answers (as when cut off)
        await _await(
            lambda: watcher.listening_to not in (None, first),
            "the watcher to give up on the silent Sentinel",
            within=watcher.timing.dead_after + watcher.stop_wait + 10,
        )
        writer = AsyncWriter(client, tasks=2).start()
        via = next(s for s in dep.sentinels if s is not frozen)
        # (not dep.sentinel_failover: asking the frozen Sentinel first would take seconds)
        await asyncio.to_thread(
            via.client().execute_command, "SENTINEL", "FAILOVER", dep.master_name
        )
        await _await(lambda: watcher.switches, "the watcher to act on +switch-master")
        switch = watcher.switches[0]
        await _await(
            lambda: len(writer.log.started_after(switch.at)) > 20, "writes after the switch"
        )
        log = await writer.stop()
    finally:
        if frozen is not None:
            frozen.cont()
        await client.aclose()
    assert switch.old == old
    assert log.ports(log.started_after(switch.at)) == {switch.new[1]}
    assert not watcher.running


def test_watcher_is_only_on_sentinel_master_clients_and_stops_on_close(
    redis_sentinel: RedisDeployment, redis_standalone: RedisDeployment
) -> None:
    client = create_client(_settings(redis_sentinel))
    assert isinstance(client, FailoverRedis)
    watcher = client.switch_watcher
    assert watcher is not None
    client.ping()
    _wait(lambda: watcher.listening_to is not None, "the watcher to subscribe")
    client.close()
    assert not watcher.running
    others = [
        create_client(_settings(redis_standalone)),
        create_client(_settings(redis_sentinel, REDIS_READ_FROM_REPLICAS="true"), readonly=True),
        create_client(_settings(redis_sentinel), watch_switches=False),
    ]
    for other in others:
        assert getattr(other, "switch_watcher", None) is None
        other.close()


async def test_async_watcher_stops_on_aclose(redis_sentinel: RedisDeployment) -> None:
    client = create_async_client(_settings(redis_sentinel))
    assert isinstance(client, AsyncFailoverRedis)
    watcher = client.switch_watcher
    assert watcher is not None
    pipe = client.pipeline(transaction=False)  # a pipeline starts it too
    pipe.ping()
    await pipe.execute()
    await _await(lambda: watcher.listening_to is not None, "the watcher to subscribe")
    await client.aclose()
    assert not watcher.running


@pytest.mark.parametrize("mode", ["standalone", "sentinel"])
def test_noreplicas_is_retried_on_fresh_connections_then_raised(
    request: pytest.FixtureRequest, mode: str
) -> None:
    dep: RedisDeployment = request.getfixturevalue(f"redis_{mode}")
    admin = dep.node("master").client()
    client = create_client(_settings(dep, REDIS_RETRY_DEADLINE="600"))
    client.ping()
    admin.config_set("min-replicas-to-write", 5)
    before = int(admin.info("stats")["total_connections_received"])
    try:
        with pytest.raises(WriteRefusedError) as caught:
            client.set("noreplicas", "1")
        after = int(admin.info("stats")["total_connections_received"])
    finally:
        admin.config_set("min-replicas-to-write", 0)
        client.close()
    # One exception for "not durable" callers, and still what redis-py raised before.
    assert isinstance(caught.value, WriteNotConfirmedError)
    assert isinstance(caught.value, ResponseError)
    assert "NOREPLICAS" in str(caught.value)
    # Each retry opened a fresh connection (in sentinel mode, after asking Sentinel again).
    assert after - before >= 2


async def test_async_noreplicas_asks_sentinel_again_then_raises(
    redis_sentinel: RedisDeployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = create_async_client(_settings(redis_sentinel, REDIS_RETRY_DEADLINE="600"))
    assert isinstance(client, AsyncFailoverRedis)
    manager: Any = client.connection_pool.sentinel_manager  # type: ignore[attr-defined]
    asked: list[str] = []
    real = manager.discover_master

    async def counting(name: str) -> tuple[str, int]:
        asked.append(name)
        found: tuple[str, int] = await real(name)
        return found

    monkeypatch.setattr(manager, "discover_master", counting)
    master = redis_sentinel.node("master")
    await client.ping()
    asked.clear()
    master.client().config_set("min-replicas-to-write", 5)
    try:
        with pytest.raises(WriteRefusedError):
            await client.set("noreplicas", "1")
    finally:
        master.client().config_set("min-replicas-to-write", 0)
        await client.aclose()
    assert len(asked) >= 2


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_write_refused_for_a_moment_succeeds_inside_the_deadline(
    redis_sentinel: RedisDeployment, flavour: str
) -> None:
    master = redis_sentinel.node("master")
    admin = master.client()
    admin.config_set("min-replicas-to-write", 5)
    relent = threading.Timer(0.5, lambda: admin.config_set("min-replicas-to-write", 0))
    relent.start()
    try:
        if flavour == "sync":
            client = create_client(_settings(redis_sentinel))
            try:
                assert client.set("refused-then-ok", "1") is True
            finally:
                client.close()
        else:

            async def write() -> Any:
                aclient = create_async_client(_settings(redis_sentinel))
                try:
                    return await aclient.set("refused-then-ok", "1")
                finally:
                    await aclient.aclose()

            assert asyncio.run(write()) is True
    finally:
        relent.join()
        admin.config_set("min-replicas-to-write", 0)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_node_sentinel_names_but_that_is_a_replica_is_refused_on_connect(
    redis_sentinel: RedisDeployment, monkeypatch: pytest.MonkeyPatch, flavour: str
) -> None:
    # A stale Sentinel answer (the node was already turned into a replica): without the ROLE
    # check the client would read from and write to that replica.
    master, replica = redis_sentinel.node("master"), redis_sentinel.node("replica")
    stale = [replica.address]
    settings = _settings(redis_sentinel)
    if flavour == "sync":
        client = create_client(settings, watch_switches=False)
        manager: Any = client.connection_pool.sentinel_manager  # type: ignore[union-attr]
        real = manager.discover_master
        monkeypatch.setattr(
            manager, "discover_master", lambda name: stale.pop() if stale else real(name)
        )
        try:
            port = int(client.info("server")["tcp_port"])
        finally:
            client.close()
    else:

        async def ask() -> int:
            aclient = create_async_client(settings, watch_switches=False)
            amanager: Any = aclient.connection_pool.sentinel_manager  # type: ignore[union-attr]
            areal = amanager.discover_master

            async def stale_first(name: str) -> Any:
                return stale.pop() if stale else await areal(name)

            monkeypatch.setattr(amanager, "discover_master", stale_first)
            try:
                return int((await aclient.info("server"))["tcp_port"])
            finally:
                await aclient.aclose()

        port = asyncio.run(ask())
    assert stale == []  # the stale answer was used, and refused
    assert port == master.port


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_without_the_watcher_a_readonly_answer_moves_writes_to_the_new_master(
    redis_drill_sentinel: RedisDeployment, flavour: str
) -> None:
    dep = redis_drill_sentinel
    settings = _settings(dep)

    def convert_old_master() -> tuple[tuple[str, int], tuple[str, int]]:
        old = dep.sentinel_failover()
        new = dep.wait_for_new_master(old)
        dep.wait_for_sentinels_to_agree(new)
        # What Sentinel does to the old master about 10 s later, done now.
        dep.node_at(old).client().execute_command("REPLICAOF", *new)  # type: ignore[no-untyped-call]
        return old, new

    if flavour == "sync":
        client = create_client(settings, watch_switches=False)
        try:
            before = int(client.execute_command("EVAL", IDENTIFY, 1, "before", 1))
            old, new = convert_old_master()  # the pooled connection still points at old
            after = int(client.execute_command("EVAL", IDENTIFY, 1, "after", 1))
        finally:
            client.close()
    else:

        async def run() -> tuple[int, int, tuple[str, int], tuple[str, int]]:
            aclient = create_async_client(settings, watch_switches=False)
            try:
                first = int(await aclient.execute_command("EVAL", IDENTIFY, 1, "before", 1))
                moved = await asyncio.to_thread(convert_old_master)
                second = int(await aclient.execute_command("EVAL", IDENTIFY, 1, "after", 1))
            finally:
                await aclient.aclose()
            return first, second, *moved

        before, after, old, new = asyncio.run(run())
    assert (before, after) == (old[1], new[1])


def test_without_the_watcher_noreplicas_moves_writes_before_sentinel_converts_the_old_master(
    redis_drill_sentinel: RedisDeployment,
) -> None:
    dep = redis_drill_sentinel
    for node in dep.nodes:  # what the stacks render (issue 11)
        node.client().config_set("min-replicas-to-write", 1)
    client = create_client(_settings(dep), watch_switches=False)
    try:
        writer = SyncWriter(client).start()
        _wait(lambda: len(writer.log.acknowledged) > 20, "writes before the failover")
        old = dep.sentinel_failover()
        new = dep.wait_for_new_master(old)
        _wait(lambda: new[1] in writer.log.ports(writer.log.acknowledged), "a write on the new")
        old_role = dep.node_at(old).client().info("replication")["role"]
        first_on_new = min(w.finished for w in writer.log.acknowledged if w.port == new[1])
        _wait(lambda: len(writer.log.started_after(first_on_new)) > 20, "more writes")
        log = writer.stop()
    finally:
        client.close()
    # Still a master: the writes moved because it refused them, not because Sentinel
    # converted it (about 10 s after the switch).
    assert old_role == "master"
    assert log.ports(log.started_after(first_on_new)) == {new[1]}
