"""Move every key between Redis deployments: standalone or Sentinel into Cluster, and back.

``python -m app_support.redis.cluster_migrate --source ... --target ...`` copies key by key with
``DUMP`` + ``RESTORE ... REPLACE`` (values, encodings and remaining TTLs kept; Redis's own
serialisation, so every type moves, queues and sessions included), then checks every key on the
target against the source: same type, same content, a TTL where the source had one. The
primitives of app_support (job queues, sessions, cache, rate limits) keep their keys in one cluster
slot by hash tags, so their multi-key commands work on the target as they did before.

Writes must be stopped while it runs (stop the app's web and worker processes): a key written
during the copy may be missed. ``scripts/redis-migrate`` does that for a deployed stack.

A deployment is named by one of ``redis://host:port/0`` (one node), ``sentinel://host:port,...``
(the master the Sentinels name, ``--master-name``), ``cluster://host:port,...``. Passwords come
from ``REDIS_SOURCE_PASSWORD`` / ``REDIS_TARGET_PASSWORD`` (default ``REDIS_PASSWORD``) and, for
Sentinels, ``REDIS_SENTINEL_PASSWORD``: never from the command line. Prints one JSON line (key
counts by type, seconds, keys checked, mismatches); exit status 1 when a key differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import ResponseError
from redis.sentinel import Sentinel

__all__ = [
    "MigrationReport",
    "connect",
    "copy_keys",
    "key_digest",
    "main",
    "migrate",
    "parse_target",
    "verify_keys",
]

Client = redis.Redis | RedisCluster
BATCH = 200
# Redis refuses writes for a moment after a deployment starts (a cluster still forming, a master
# whose replica has not linked yet under min-replicas-to-write): how long the target may take.
READY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Target:
    """One deployment as named on the command line."""

    kind: str  # redis | sentinel | cluster
    addresses: tuple[tuple[str, int], ...]
    db: int = 0


def parse_target(text: str) -> Target:
    """``redis://host:port[/db]``, ``sentinel://h:p,h:p`` or ``cluster://h:p,h:p``; ValueError
    naming the expected shape otherwise."""
    kind, sep, rest = text.partition("://")
    if not sep or kind not in ("redis", "sentinel", "cluster") or not rest:
        raise ValueError(
            f"{text!r}: expected redis://host:port/0, sentinel://host:port,... or "
            "cluster://host:port,..."
        )
    hosts, _, db = rest.partition("/")
    addresses = []
    for item in hosts.split(","):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{text!r}: {item!r} is not host:port")
        addresses.append((host, int(port)))
    if kind == "redis" and len(addresses) != 1:
        raise ValueError(f"{text!r}: redis:// names one node")
    return Target(kind, tuple(addresses), int(db) if db.isdigit() else 0)


def connect(
    target: Target,
    password: str | None,
    *,
    master_name: str = "mymaster",
    sentinel_password: str | None = None,
) -> Client:
    """A plain redis-py client of the deployment (of its master, for Sentinel)."""
    timeouts: dict[str, Any] = {"socket_timeout": 10.0, "socket_connect_timeout": 5.0}
    if target.kind == "cluster":
        nodes = [ClusterNode(host, port) for host, port in target.addresses]  # type: ignore[no-untyped-call]
        return RedisCluster(startup_nodes=nodes, password=password, **timeouts)
    if target.kind == "sentinel":
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            list(target.addresses),
            sentinel_kwargs={"password": sentinel_password, **timeouts},
            password=password,
            **timeouts,
        )
        host, port = sentinel.discover_master(master_name)  # type: ignore[no-untyped-call]
        return redis.Redis(host=host, port=port, db=target.db, password=password, **timeouts)
    ((host, port),) = target.addresses
    return redis.Redis(host=host, port=port, db=target.db, password=password, **timeouts)


def _keys(client: Client) -> Iterator[bytes]:
    # A cluster client scans every master; a plain one its own node.
    yield from client.scan_iter(count=1000)


def _pttl_of(value: int) -> int:
    """RESTORE's TTL argument from a PTTL reply: 0 (none) for -1; a key that expired since the
    SCAN (-2) is skipped by the caller."""
    return max(value, 0)


def copy_keys(source: Client, target: Client, *, replace: bool = True) -> Counter[str]:
    """Copy every key of ``source`` to ``target`` (DUMP + PTTL, then RESTORE with the TTL left);
    the number of keys copied by type. Keys that expire meanwhile are skipped."""
    copied: Counter[str] = Counter()
    batch: list[bytes] = []

    def flush() -> None:
        read = source.pipeline(transaction=False)
        for key in batch:
            read.type(key)
            read.pttl(key)
            read.dump(key)
        replies = read.execute()
        write = target.pipeline(transaction=False)
        types = []
        for i, key in enumerate(batch):
            kind, pttl, payload = replies[3 * i : 3 * i + 3]
            if payload is None or pttl == -2:
                continue
            write.restore(key, _pttl_of(pttl), payload, replace=replace)
            types.append(kind.decode() if isinstance(kind, bytes) else str(kind))
        write.execute()
        copied.update(types)
        batch.clear()

    for key in _keys(source):
        batch.append(key)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return copied


def _canonical(client: Client, key: bytes, kind: str) -> Any:
    if kind == "string":
        return client.get(key)
    if kind == "hash":
        return sorted(client.hgetall(key).items())
    if kind == "list":
        return client.lrange(key, 0, -1)
    if kind == "set":
        return sorted(client.smembers(key))
    if kind == "zset":
        return client.zrange(key, 0, -1, withscores=True)
    if kind == "stream":
        return client.xrange(key)
    raise ValueError(f"key {key!r}: type {kind} is not compared")


def key_digest(client: Client, key: bytes) -> str | None:
    """Type, content and whether it expires, hashed; None when the key does not exist."""
    kind_reply = client.type(key)
    kind = kind_reply.decode() if isinstance(kind_reply, bytes) else str(kind_reply)
    if kind == "none":
        return None
    expires = client.pttl(key) >= 0
    content = repr((kind, expires, _canonical(client, key, kind))).encode()
    return hashlib.sha256(content).hexdigest()


def verify_keys(source: Client, target: Client) -> tuple[int, list[str]]:
    """Every key of ``source`` compared with ``target``: (keys checked, keys that differ or are
    missing). The target must hold nothing the source does not (counted as a difference)."""
    checked, differ = 0, []
    seen = set()
    for key in _keys(source):
        seen.add(key)
        want = key_digest(source, key)
        if want is None:  # expired since the copy
            continue
        checked += 1
        if key_digest(target, key) != want:
            differ.append(key.decode(errors="replace"))
    extra = [k.decode(errors="replace") for k in _keys(target) if k not in seen]
    return checked, differ + [f"{k} (only on the target)" for k in extra]


def _wait_writable(client: Client, timeout: float = READY_TIMEOUT) -> None:
    """Until the target takes a write (a cluster with every slot served, a master with its
    replicas); RuntimeError with the last refusal after ``timeout``."""
    give_up = time.monotonic() + timeout
    probe = "{cluster_migrate}:probe"
    while True:
        try:
            client.set(probe, "1", px=1000)
            client.delete(probe)
            return
        except (ResponseError, redis.exceptions.ConnectionError) as error:
            if time.monotonic() > give_up:
                raise RuntimeError(f"the target takes no write: {error}") from error
            time.sleep(0.5)


@dataclass
class MigrationReport:
    copied: Counter[str] = field(default_factory=Counter)
    copy_seconds: float = 0.0
    checked: int = 0
    differ: list[str] = field(default_factory=list)
    source_keys: int = 0
    flushed: bool = False

    def as_json(self) -> str:
        return json.dumps(
            {
                "source_keys": self.source_keys,
                "copied": sum(self.copied.values()),
                "by_type": dict(sorted(self.copied.items())),
                "copy_seconds": round(self.copy_seconds, 3),
                "checked": self.checked,
                "differ": self.differ[:20],
                "differ_count": len(self.differ),
                "target_flushed": self.flushed,
            }
        )


def migrate(source: Client, target: Client, *, flush_target: bool = False) -> MigrationReport:
    """Copy every key and check each one. ``flush_target`` empties the target first (data a
    deployment left in its volumes when the stack last ran in that mode)."""
    report = MigrationReport()
    _wait_writable(target)
    # A cluster client adds up its masters' DBSIZE.
    report.source_keys = int(source.dbsize())
    if flush_target:
        target.flushall()
        report.flushed = True
    started = time.monotonic()
    report.copied = copy_keys(source, target)
    report.copy_seconds = time.monotonic() - started
    report.checked, report.differ = verify_keys(source, target)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Run a migration from the command line; 1 when a key differs, 2 on a usage error."""
    parser = argparse.ArgumentParser(
        prog="python -m app_support.redis.cluster_migrate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--source", required=True, help="redis://, sentinel:// or cluster://")
    parser.add_argument("--target", required=True, help="redis://, sentinel:// or cluster://")
    parser.add_argument("--master-name", default=os.environ.get("REDIS_MASTER_NAME", "mymaster"))
    parser.add_argument("--flush-target", action="store_true", help="empty the target first")
    args = parser.parse_args(argv)
    try:
        source_at, target_at = parse_target(args.source), parse_target(args.target)
    except ValueError as error:
        parser.error(str(error))
    common = os.environ.get("REDIS_PASSWORD")
    sentinel_password = os.environ.get("REDIS_SENTINEL_PASSWORD")
    source = connect(
        source_at,
        os.environ.get("REDIS_SOURCE_PASSWORD", common),
        master_name=args.master_name,
        sentinel_password=sentinel_password,
    )
    target = connect(
        target_at,
        os.environ.get("REDIS_TARGET_PASSWORD", common),
        master_name=args.master_name,
        sentinel_password=sentinel_password,
    )
    try:
        report = migrate(source, target, flush_target=args.flush_target)
    finally:
        source.close()
        target.close()
    print(report.as_json(), flush=True)
    return 1 if report.differ else 0


if __name__ == "__main__":
    sys.exit(main())
