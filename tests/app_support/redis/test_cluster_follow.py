"""How the cluster clients decide to wait out a failing master (app_support.redis.cluster_follow):
the reply parsing on its own, and the clients' question to the other masters when none answers.
The waiting itself runs in test_cluster_failover.py's drills."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio.cluster import ClusterNode as AsyncClusterNode
from redis.cluster import ClusterNode
from redis.exceptions import ConnectionError, ResponseError, TimeoutError

from app_support.redis import RedisSettings, create_async_client, create_client
from app_support.redis.aclients import AsyncFailoverCluster
from app_support.redis.clients import FailoverCluster
from app_support.redis.cluster_follow import FailedNode, failed_node_name, failing_with_slots
from tests.servers.redis_nodes import RedisDeployment

NODES = (
    "07c3 10.0.0.1:6379@16379 master,fail - 1 2 1 disconnected 0-5460\n"
    "1a2b 10.0.0.2:6379@16379,redis-2 master,fail? - 1 2 2 connected 5461-10922\n"
    "3c4d 10.0.0.3:6379@16379 master - 0 2 3 connected 10923-16383\n"
    "5e6f 10.0.0.4:6379@16379 master,fail - 1 2 1 disconnected\n"
    "truncated line\n"
)


def test_the_node_of_a_connection_error_or_timeout_is_named() -> None:
    timeout = TimeoutError("Timeout reading from socket")
    timeout.connection = ClusterNode("10.0.0.1", 6379)  # type: ignore[attr-defined,no-untyped-call]
    assert failed_node_name(timeout) == "10.0.0.1:6379"
    assert failed_node_name(ConnectionError("no node attached")) is None
    refused = ResponseError("CLUSTERDOWN The cluster is down")
    refused.connection = ClusterNode("10.0.0.1", 6379)  # type: ignore[attr-defined,no-untyped-call]
    assert failed_node_name(refused) is None


@pytest.mark.parametrize("reply", [NODES, NODES.encode()])
def test_a_node_is_waited_out_only_while_flagged_failing_and_holding_slots(
    reply: str | bytes,
) -> None:
    assert failing_with_slots(reply, "10.0.0.1:6379")  # fail, slots
    assert failing_with_slots(reply, "10.0.0.2:6379")  # fail? (PFAIL), slots
    assert not failing_with_slots(reply, "10.0.0.3:6379")  # healthy
    assert not failing_with_slots(reply, "10.0.0.4:6379")  # failed over: no slots left
    assert not failing_with_slots(reply, "10.0.0.9:6379")  # not listed


def test_parsed_replies_are_read_too() -> None:
    parsed = {
        "10.0.0.1:6379": {"flags": "master,fail", "slots": [["0", "5460"]]},
        "10.0.0.4:6379": {"flags": "master,fail", "slots": []},
    }
    assert failing_with_slots(parsed, "10.0.0.1:6379")
    assert not failing_with_slots(parsed, "10.0.0.4:6379")


def test_a_command_waits_only_with_a_failed_node_and_time_left() -> None:
    failed = FailedNode.for_deadline(5.0)
    assert not failed.waiting()  # no node failed
    refused = ConnectionError("Connection refused")
    refused.connection = ClusterNode("10.0.0.1", 6379)  # type: ignore[attr-defined,no-untyped-call]
    failed.note(refused)
    assert failed.waiting()
    assert not FailedNode(give_up_at=0.0, name="10.0.0.1:6379").waiting()  # deadline passed


def test_sync_client_retries_at_once_when_no_other_master_answers(
    redis_cluster: RedisDeployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = create_client(RedisSettings.from_env(redis_cluster.environ))
    assert isinstance(client, FailoverCluster)

    class Unreachable:
        def execute_command(self, *args: Any) -> Any:
            raise ConnectionError("unreachable")

    try:
        primaries = client.get_primaries()  # type: ignore[no-untyped-call]
        monkeypatch.setattr(client, "get_redis_connection", lambda node: Unreachable())
        assert not client._failing_with_slots(primaries[0].name)
    finally:
        client.close()


async def test_async_client_retries_at_once_when_no_other_master_answers(
    redis_cluster: RedisDeployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = create_async_client(RedisSettings.from_env(redis_cluster.environ))
    assert isinstance(client, AsyncFailoverCluster)
    try:
        await client.initialize()
        primaries = client.get_primaries()

        async def unreachable(self: AsyncClusterNode, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("unreachable")

        monkeypatch.setattr(AsyncClusterNode, "execute_command", unreachable)
        assert not await client._failing_with_slots(primaries[0].name)
    finally:
        monkeypatch.undo()
        await client.aclose()
