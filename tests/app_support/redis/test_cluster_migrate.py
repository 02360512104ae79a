"""Key-by-key migration (app_support.redis.cluster_migrate) between real deployments started by the
tests: standalone -> cluster -> sentinel, every Redis type with and without TTL, and the app's own
primitives (a queued job, a session) usable through app_support on each target."""

from __future__ import annotations

import json

import pytest
import redis

from app_support.redis import JobQueue, RedisSettings, SessionStore, create_async_client
from app_support.redis.cluster_migrate import (
    connect,
    key_digest,
    main,
    migrate,
    parse_target,
)
from tests.servers.redis_nodes import HOST, RedisDeployment


def _plain(dep: RedisDeployment) -> redis.Redis | redis.RedisCluster:
    if dep.mode == "cluster":
        return connect(parse_target(f"cluster://{HOST}:{dep.nodes[0].port}"), dep.password)
    if dep.mode == "sentinel":
        sentinels = ",".join(f"{HOST}:{s.port}" for s in dep.sentinels)
        return connect(
            parse_target(f"sentinel://{sentinels}"),
            dep.password,
            master_name=dep.master_name,
            sentinel_password=dep.sentinel_password,
        )
    return connect(parse_target(f"redis://{HOST}:{dep.nodes[0].port}/0"), dep.password)


def _fill(client: redis.Redis | redis.RedisCluster) -> None:
    client.set("m:string", "v", ex=600)
    client.set("m:forever", b"\x00\xffbinary")
    client.hset("m:hash", mapping={"a": "1", "b": "2"})
    client.rpush("m:list", "x", "y", "z")
    client.sadd("m:set", "p", "q")
    client.zadd("m:zset", {"one": 1.0, "two": 2.5})
    client.xadd("m:stream", {"f": "v"})
    for i in range(300):  # spread over every master of a cluster
        client.set(f"m:bulk:{i}", str(i), px=600_000 if i % 2 else None)


async def _primitives(dep: RedisDeployment) -> tuple[str, str]:
    client = create_async_client(RedisSettings.from_env(dep.environ))
    try:
        job_id = await JobQueue(client, "import").enqueue({"rows": 3})
        session_id = await SessionStore(client).create({"user": "migrated"})
    finally:
        await client.aclose()
    return job_id, session_id


async def _check_primitives(dep: RedisDeployment, job_id: str, session_id: str) -> None:
    client = create_async_client(RedisSettings.from_env(dep.environ))
    try:
        assert await SessionStore(client).get(session_id) == {"user": "migrated"}
        job = await JobQueue(client, "import").reserve()
        assert job is not None
        assert (job.id, job.payload) == (job_id, {"rows": 3})
    finally:
        await client.aclose()


def _same_keys(a: redis.Redis | redis.RedisCluster, b: redis.Redis | redis.RedisCluster) -> None:
    keys = sorted(a.scan_iter(count=1000))
    assert keys == sorted(b.scan_iter(count=1000))
    for key in keys:
        assert key_digest(a, key) == key_digest(b, key), key
        if a.pttl(key) > 0:
            assert 0 < b.pttl(key) <= a.pttl(key) + 1000, key
        else:
            assert b.pttl(key) == -1, key


async def test_standalone_to_cluster_and_back_to_sentinel_key_by_key(
    redis_standalone: RedisDeployment,
    redis_cluster: RedisDeployment,
    redis_sentinel: RedisDeployment,
) -> None:
    for dep in (redis_standalone, redis_cluster, redis_sentinel):
        dep.flush()
    standalone, cluster, sentinel = (
        _plain(d) for d in (redis_standalone, redis_cluster, redis_sentinel)
    )
    try:
        _fill(standalone)
        job_id, session_id = await _primitives(redis_standalone)
        cluster.set("stale:left-by-an-old-deployment", "x")

        into = migrate(standalone, cluster, flush_target=True)
        assert into.differ == []
        # 307 filled here, plus the job's and the session's keys.
        assert into.source_keys == into.checked == sum(into.copied.values()) > 307
        assert into.copied["stream"] == 1
        assert into.copied["zset"] >= 1  # the queue keeps its jobs in sorted sets/hashes too
        assert cluster.exists("stale:left-by-an-old-deployment") == 0
        _same_keys(standalone, cluster)

        back = migrate(cluster, sentinel, flush_target=True)
        assert back.differ == []
        assert back.checked == into.checked
        _same_keys(cluster, sentinel)
    finally:
        for client in (standalone, cluster, sentinel):
            client.close()
    await _check_primitives(redis_cluster, job_id, session_id)
    await _check_primitives(redis_sentinel, job_id, session_id)


def test_a_key_that_differs_is_reported_and_fails_the_command(
    redis_standalone: RedisDeployment,
    redis_cluster: RedisDeployment,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    redis_standalone.flush()
    redis_cluster.flush()
    monkeypatch.setenv("REDIS_SOURCE_PASSWORD", redis_standalone.password)
    monkeypatch.setenv("REDIS_TARGET_PASSWORD", redis_cluster.password)
    source = f"redis://{HOST}:{redis_standalone.nodes[0].port}/0"
    target = f"cluster://{HOST}:{redis_cluster.nodes[0].port}"
    plain = _plain(redis_standalone)
    try:
        plain.set("k", "1")
        assert main(["--source", source, "--target", target]) == 0
        assert json.loads(capsys.readouterr().out)["checked"] == 1
        # Without --flush-target a key only the target holds is a difference.
        _plain(redis_cluster).set("only-on-target", "x")
        assert main(["--source", source, "--target", target]) == 1
        report = json.loads(capsys.readouterr().out)
        assert report["differ"] == ["only-on-target (only on the target)"]
    finally:
        plain.close()


@pytest.mark.parametrize(
    "text",
    ["redis:/x", "mongo://h:1", "redis://h:1,h:2", "cluster://h", "cluster://:7000", "sentinel://"],
)
def test_a_malformed_deployment_name_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected|is not host:port|names one node"):
        parse_target(text)


def test_deployment_names_parse() -> None:
    assert parse_target("redis://10.0.0.1:6379/2").db == 2
    target = parse_target("cluster://a:1,b:2")
    assert (target.kind, target.addresses) == ("cluster", (("a", 1), ("b", 2)))
