"""The ``redis`` block of the detailed health report, for sync and asyncio clients.

``await redis_health(client)`` / ``redis_health_sync(client)`` return::

    {status, latency (ms, PING), mode, nodes, master, replicas (connected),
     quorum (sentinel: SENTINEL CKQUORUM passed) | cluster_state (cluster), error}

``status`` is ``unhealthy`` when Redis does not answer (``error`` says why; nothing is raised),
``degraded`` when it answers but a failover could not happen or would lose redundancy (no
connected replica in sentinel mode, no Sentinel quorum, a cluster master without a replica), else
``healthy``. In cluster mode ``master`` is None and ``masters`` lists the masters. Each call is a
few round trips; the health core caches and times it out.
"""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio.sentinel import SentinelConnectionPool as AsyncSentinelPool
from redis.exceptions import RedisError
from redis.sentinel import SentinelConnectionPool

from app_support.redis.aclients import AsyncFailoverCluster
from app_support.redis.clients import FailoverCluster
from app_support.redis.cluster_topology import cluster_shape
from app_support.redis.factory import AsyncRedisClient, SyncRedisClient

__all__ = ["redis_health", "redis_health_sync"]


def _address(host: Any, port: Any) -> str:
    return f"{host}:{port}"


def _report(mode: str, latency: float, **fields: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "status": "healthy",
        "latency": round(latency * 1000, 3),
        "mode": mode,
        "error": None,
    }
    report.update(fields)
    problems: list[str] = []
    if mode == "sentinel":
        if not report["quorum"]:
            problems.append(f"Sentinel quorum not reachable: {report.pop('quorum_error', '')}")
        if report["replicas"] == 0:
            problems.append("no connected replica")
    if mode == "cluster" and report["replicas"] < len(report["masters"]):
        problems.append("a master has no replica")
    report.pop("quorum_error", None)
    if problems:
        report["status"] = "degraded"
        report["error"] = "; ".join(problems)
    return report


def _failure(mode: str, error: Exception) -> dict[str, Any]:
    return {
        "status": "unhealthy",
        "latency": None,
        "mode": mode,
        "nodes": 0,
        "master": None,
        "replicas": 0,
        "error": f"{type(error).__name__}: {error}",
    }


def _mode(client: SyncRedisClient | AsyncRedisClient) -> str:
    if isinstance(client, FailoverCluster | AsyncFailoverCluster):
        return "cluster"
    if isinstance(client.connection_pool, SentinelConnectionPool | AsyncSentinelPool):
        return "sentinel"
    return "standalone"


def _cluster_fields(state: Any, nodes: Any) -> dict[str, Any]:
    # From the cluster's own CLUSTER NODES, not the client's cached node list (stale until an
    # error or a MOVED makes it re-read the slot map).
    shape = cluster_shape(nodes)
    return {
        "nodes": shape.nodes,
        "master": None,
        "masters": list(shape.masters),
        "replicas": shape.replicas,
        "cluster_state": state["cluster_state"],
    }


def _sentinel_fields(
    master: str, known: int, replicas: int, quorum: tuple[bool, str]
) -> dict[str, Any]:
    ok, why = quorum
    return {
        "nodes": 1 + known,
        "master": master,
        "replicas": replicas,
        "quorum": ok,
        "quorum_error": why,
    }


def _standalone_fields(connection_kwargs: dict[str, Any], replicas: int) -> dict[str, Any]:
    master = _address(connection_kwargs.get("host"), connection_kwargs.get("port"))
    return {"nodes": 1, "master": master, "replicas": replicas}


def redis_health_sync(client: SyncRedisClient) -> dict[str, Any]:
    """The health block for a sync client (see the module docstring); never raises RedisError."""
    mode = _mode(client)
    try:
        started = time.perf_counter()
        client.ping()
        latency = time.perf_counter() - started
        if isinstance(client, FailoverCluster):
            state = client.cluster_info()
            return _report(mode, latency, **_cluster_fields(state, client.cluster_nodes()))
        replicas = int(client.info("replication")["connected_slaves"])
        pool = client.connection_pool
        if isinstance(pool, SentinelConnectionPool):
            sentinels = pool.sentinel_manager
            host, port = pool.get_master_address()  # type: ignore[no-untyped-call]
            known = sentinels.discover_slaves(pool.service_name)
            quorum = _ckquorum(sentinels.sentinels, pool.service_name)
            fields = _sentinel_fields(_address(host, port), len(known), replicas, quorum)
        else:
            fields = _standalone_fields(pool.connection_kwargs, replicas)
        return _report(mode, latency, **fields)
    except RedisError as error:
        return _failure(mode, error)


def _quorum_ok(answer: Any) -> tuple[bool, str]:
    # Raw command: redis-py's asyncio ckquorum callback reports False for an OK answer (8.1).
    text = answer.decode() if isinstance(answer, bytes) else str(answer)
    return text.startswith("OK"), "" if text.startswith("OK") else text


def _ckquorum(sentinels: list[Any], service: str) -> tuple[bool, str]:
    why = "no Sentinel answered"
    for sentinel in sentinels:
        try:
            return _quorum_ok(sentinel.execute_command("SENTINEL", "CKQUORUM", service))
        except RedisError as error:
            why = str(error)
            if "NOQUORUM" in why:
                return False, why
    return False, why


async def redis_health(client: AsyncRedisClient) -> dict[str, Any]:
    """The health block for an asyncio client; never raises RedisError."""
    mode = _mode(client)
    try:
        started = time.perf_counter()
        await client.ping()
        latency = time.perf_counter() - started
        if isinstance(client, AsyncFailoverCluster):
            state = await client.cluster_info()
            nodes = await client.cluster_nodes()
            return _report(mode, latency, **_cluster_fields(state, nodes))
        replicas = int((await client.info("replication"))["connected_slaves"])
        pool = client.connection_pool
        if isinstance(pool, AsyncSentinelPool):
            sentinels = pool.sentinel_manager
            host, port = await pool.get_master_address()  # type: ignore[no-untyped-call]
            known = await sentinels.discover_slaves(pool.service_name)
            quorum = await _ackquorum(sentinels.sentinels, pool.service_name)
            fields = _sentinel_fields(_address(host, port), len(known), replicas, quorum)
        else:
            fields = _standalone_fields(pool.connection_kwargs, replicas)
        return _report(mode, latency, **fields)
    except RedisError as error:
        return _failure(mode, error)


async def _ackquorum(sentinels: list[Any], service: str) -> tuple[bool, str]:
    why = "no Sentinel answered"
    for sentinel in sentinels:
        try:
            return _quorum_ok(await sentinel.execute_command("SENTINEL", "CKQUORUM", service))
        except RedisError as error:
            why = str(error)
            if "NOQUORUM" in why:
                return False, why
    return False, why
