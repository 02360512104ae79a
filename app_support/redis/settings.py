"""Redis settings: keyword construction or ``RedisSettings.from_env()``, validated before any I/O.

Environment variables (docs/architecture.md is the contract; times are milliseconds):

- ``REDIS_MODE``: ``standalone`` | ``sentinel`` | ``cluster``; default derived from the flag below.
- ``REDIS_CLUSTER_ENABLED``: the original flag; ``true`` with REDIS_SENTINEL_HOSTS means sentinel,
  with REDIS_CLUSTER_NODES cluster. Default ``false`` (standalone).
- ``REDIS_URL``: standalone URL, default ``redis://localhost:6379/0``.
- ``REDIS_SENTINEL_HOSTS`` / ``REDIS_CLUSTER_NODES``: ``host:port,host:port``.
- ``REDIS_MASTER_NAME``: Sentinel master name, default ``mymaster``.
- ``REDIS_PASSWORD``: data nodes only; ``REDIS_SENTINEL_PASSWORD``: Sentinels only.
- ``REDIS_READ_FROM_REPLICAS``: ``true`` lets ``readonly=True`` clients read from replicas.
- ``REDIS_SOCKET_TIMEOUT`` (2000), ``REDIS_CONNECT_TIMEOUT`` (1000).
- ``REDIS_RETRY_DEADLINE`` (5000): how long one command keeps retrying through a failover.
- ``REDIS_MAX_CONNECTIONS`` (50): per pool (per node in cluster mode).
- ``REDIS_WAIT_REPLICAS`` (0: no WAIT) and ``REDIS_WAIT_TIMEOUT`` (1000): replicas that must
  confirm durable writes (job enqueue, session create) and how long to wait for them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from app_support.redis.errors import RedisConfigError

__all__ = ["Address", "RedisMode", "RedisSettings", "parse_addresses"]

RedisMode = Literal["standalone", "sentinel", "cluster"]
Address = tuple[str, int]

_MODES: tuple[RedisMode, ...] = ("standalone", "sentinel", "cluster")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
_URL_SCHEMES = frozenset({"redis", "rediss", "unix"})


def parse_addresses(variable: str, value: str, example: str) -> tuple[Address, ...]:
    """Parse ``host:port,host:port``; raise RedisConfigError naming ``variable`` when malformed."""
    addresses: list[Address] = []
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        host, sep, port_text = item.rpartition(":")
        if not sep or not host:
            raise RedisConfigError(variable, f"{item!r} has no port", example)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise RedisConfigError(variable, f"{item!r} has an invalid port", example)
        addresses.append((host.strip("[]"), int(port_text)))
    if not addresses:
        raise RedisConfigError(variable, "no host:port given", example)
    return tuple(addresses)


def _flag(variable: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise RedisConfigError(variable, f"{value!r} is not a boolean", "true")


def _millis(variable: str, value: str, example: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise RedisConfigError(variable, f"{value!r} is not a number of ms", example) from None
    return number / 1000.0


def _count(variable: str, value: str, example: str) -> int:
    if not value.strip().isdigit():
        raise RedisConfigError(variable, f"{value!r} is not a whole number", example)
    return int(value)


_SENTINEL_EXAMPLE = "sentinel-1:26379,sentinel-2:26379,sentinel-3:26379"
_CLUSTER_EXAMPLE = "redis-1:6379,redis-2:6379,redis-3:6379"


@dataclass(frozen=True, kw_only=True)
class RedisSettings:
    """How to reach Redis. Every field has a default; construction raises RedisConfigError."""

    mode: RedisMode = "standalone"
    url: str = "redis://localhost:6379/0"
    sentinel_hosts: tuple[Address, ...] = ()
    master_name: str = "mymaster"
    cluster_nodes: tuple[Address, ...] = ()
    password: str | None = field(default=None, repr=False)
    sentinel_password: str | None = field(default=None, repr=False)
    read_from_replicas: bool = False
    socket_timeout: float = 2.0
    connect_timeout: float = 1.0
    retry_deadline: float = 5.0
    max_connections: int = 50
    wait_replicas: int = 0
    wait_timeout: float = 1.0

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise RedisConfigError("REDIS_MODE", f"unknown mode {self.mode!r}", "sentinel")
        if self.mode == "standalone":
            scheme = urlsplit(self.url).scheme
            if scheme not in _URL_SCHEMES:
                raise RedisConfigError(
                    "REDIS_URL", f"{self.url!r} is not a redis:// URL", "redis://redis:6379/0"
                )
        if self.mode == "sentinel":
            if not self.sentinel_hosts:
                raise RedisConfigError(
                    "REDIS_SENTINEL_HOSTS", "required in sentinel mode", _SENTINEL_EXAMPLE
                )
            if not self.master_name:
                raise RedisConfigError("REDIS_MASTER_NAME", "must not be empty", "mymaster")
        if self.mode == "cluster" and not self.cluster_nodes:
            raise RedisConfigError(
                "REDIS_CLUSTER_NODES", "required in cluster mode", _CLUSTER_EXAMPLE
            )
        for variable, seconds in (
            ("REDIS_SOCKET_TIMEOUT", self.socket_timeout),
            ("REDIS_CONNECT_TIMEOUT", self.connect_timeout),
            ("REDIS_WAIT_TIMEOUT", self.wait_timeout),
        ):
            if not seconds > 0:
                raise RedisConfigError(variable, "must be more than 0 ms", "2000")
        if self.retry_deadline < 0:
            raise RedisConfigError("REDIS_RETRY_DEADLINE", "must not be negative", "5000")
        if self.max_connections < 1:
            raise RedisConfigError("REDIS_MAX_CONNECTIONS", "must be at least 1", "50")
        if self.wait_replicas < 0:
            raise RedisConfigError("REDIS_WAIT_REPLICAS", "must not be negative", "1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RedisSettings:
        """Read the REDIS_* variables (``os.environ`` by default).

        Raises RedisConfigError for a malformed value, an unknown mode or a mode whose
        required variables are missing.
        """
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            return env.get(name, "").strip()

        kwargs: dict[str, object] = {"mode": _mode(env)}
        if get("REDIS_URL"):
            kwargs["url"] = get("REDIS_URL")
        if get("REDIS_SENTINEL_HOSTS"):
            kwargs["sentinel_hosts"] = parse_addresses(
                "REDIS_SENTINEL_HOSTS", get("REDIS_SENTINEL_HOSTS"), _SENTINEL_EXAMPLE
            )
        if get("REDIS_CLUSTER_NODES"):
            kwargs["cluster_nodes"] = parse_addresses(
                "REDIS_CLUSTER_NODES", get("REDIS_CLUSTER_NODES"), _CLUSTER_EXAMPLE
            )
        if get("REDIS_MASTER_NAME"):
            kwargs["master_name"] = get("REDIS_MASTER_NAME")
        for name, key in (
            ("REDIS_PASSWORD", "password"),
            ("REDIS_SENTINEL_PASSWORD", "sentinel_password"),
        ):
            if env.get(name):
                kwargs[key] = env[name]
        if get("REDIS_READ_FROM_REPLICAS"):
            kwargs["read_from_replicas"] = _flag(
                "REDIS_READ_FROM_REPLICAS", get("REDIS_READ_FROM_REPLICAS")
            )
        for name, key, example in (
            ("REDIS_SOCKET_TIMEOUT", "socket_timeout", "2000"),
            ("REDIS_CONNECT_TIMEOUT", "connect_timeout", "1000"),
            ("REDIS_RETRY_DEADLINE", "retry_deadline", "5000"),
            ("REDIS_WAIT_TIMEOUT", "wait_timeout", "1000"),
        ):
            if get(name):
                kwargs[key] = _millis(name, get(name), example)
        for name, key, example in (
            ("REDIS_MAX_CONNECTIONS", "max_connections", "50"),
            ("REDIS_WAIT_REPLICAS", "wait_replicas", "1"),
        ):
            if get(name):
                kwargs[key] = _count(name, get(name), example)
        return cls(**kwargs)  # type: ignore[arg-type]


def _mode(env: Mapping[str, str]) -> RedisMode:
    explicit = env.get("REDIS_MODE", "").strip().lower()
    enabled = _flag("REDIS_CLUSTER_ENABLED", env.get("REDIS_CLUSTER_ENABLED", ""))
    if explicit:
        if explicit not in _MODES:
            raise RedisConfigError("REDIS_MODE", f"unknown mode {explicit!r}", "sentinel")
        if enabled and explicit == "standalone":
            raise RedisConfigError(
                "REDIS_MODE", "standalone contradicts REDIS_CLUSTER_ENABLED=true", "sentinel"
            )
        return explicit
    if not enabled:
        return "standalone"
    has_sentinels = bool(env.get("REDIS_SENTINEL_HOSTS", "").strip())
    has_nodes = bool(env.get("REDIS_CLUSTER_NODES", "").strip())
    if has_sentinels == has_nodes:
        raise RedisConfigError(
            "REDIS_CLUSTER_ENABLED",
            "true needs exactly one of REDIS_SENTINEL_HOSTS or REDIS_CLUSTER_NODES"
            " (or set REDIS_MODE)",
            f"true with REDIS_SENTINEL_HOSTS={_SENTINEL_EXAMPLE}",
        )
    return "sentinel" if has_sentinels else "cluster"
