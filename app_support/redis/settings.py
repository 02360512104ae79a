"""Redis settings: keyword construction or ``RedisSettings.from_env()``, validated before any I/O.

The variables are read through the environment layer (app_support.env), so their errors share
its wording; a duration is a finite number of milliseconds up to ``MAX_TIMEOUT_MS``.

Environment variables (docs/architecture.md is the contract; times are milliseconds):

- ``REDIS_MODE``: ``standalone`` | ``sentinel`` | ``cluster``; default derived from the flag below.
- ``REDIS_CLUSTER_ENABLED``: the original flag; ``true`` with REDIS_SENTINEL_HOSTS means sentinel,
  with REDIS_CLUSTER_NODES cluster. Default ``false`` (standalone).
- ``REDIS_URL``: standalone URL, default ``redis://localhost:6379/0``.
- ``REDIS_SENTINEL_HOSTS`` / ``REDIS_CLUSTER_NODES``: ``host:port,host:port``.
- ``REDIS_MASTER_NAME``: Sentinel master name, default ``mymaster``.
- ``REDIS_PASSWORD``: data nodes only; ``REDIS_SENTINEL_PASSWORD``: Sentinels only.
- ``REDIS_READ_FROM_REPLICAS``: ``true`` lets ``readonly=True`` clients read from replicas.
- ``REDIS_SOCKET_TIMEOUT`` (2000), ``REDIS_CONNECT_TIMEOUT`` (1000): 1 to 600000.
- ``REDIS_RETRY_DEADLINE`` (5000; in cluster mode 2 x ``REDIS_CLUSTER_NODE_TIMEOUT`` + 2000): how
  long one command keeps retrying through a failover (0 to 600000; 0: no retry).
- ``REDIS_CLUSTER_NODE_TIMEOUT`` (15000, Redis's default): the cluster's ``cluster-node-timeout``,
  read only for that default (app_support.redis.cluster_deadline).
- ``REDIS_MAX_CONNECTIONS`` (50): per pool (per node in cluster mode).
- ``REDIS_WAIT_REPLICAS`` (0: no WAIT) and ``REDIS_WAIT_TIMEOUT`` (1000): replicas that must
  confirm durable writes (job enqueue, session create) and how long to wait for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from app_support.env import Address, Env, check_count, check_seconds, parse_url
from app_support.redis.cluster_deadline import DEFAULT_NODE_TIMEOUT, cluster_retry_deadline
from app_support.redis.errors import RedisConfigError

__all__ = ["MAX_TIMEOUT_MS", "Address", "RedisMode", "RedisSettings"]

RedisMode = Literal["standalone", "sentinel", "cluster"]

_MODES: tuple[RedisMode, ...] = ("standalone", "sentinel", "cluster")
_URL_SCHEMES = ("redis", "rediss", "unix")
_URL_EXAMPLE = "redis://redis:6379/0"
_SENTINEL_EXAMPLE = "sentinel-1:26379,sentinel-2:26379,sentinel-3:26379"
_CLUSTER_EXAMPLE = "redis-1:6379,redis-2:6379,redis-3:6379"
# Ten minutes: longer waits on one Redis command are configuration mistakes.
MAX_TIMEOUT_MS = 600_000
_MAX_SECONDS = MAX_TIMEOUT_MS / 1000


@dataclass(frozen=True, kw_only=True)
class RedisSettings:
    """How to reach Redis. Every field has a default; construction raises RedisConfigError.

    A keyword with a bad value is named in the error (``socket_timeout: ...``); a mode without
    the addresses it needs names their variable (``REDIS_SENTINEL_HOSTS``).
    """

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
            raise RedisConfigError(
                "REDIS_MODE", f"{self.mode!r} is not one of {', '.join(_MODES)}", "sentinel"
            )
        if self.mode == "standalone":
            parse_url(
                "REDIS_URL",
                self.url,
                schemes=_URL_SCHEMES,
                example=_URL_EXAMPLE,
                error=RedisConfigError,
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
        for name, example, minimum in (
            ("socket_timeout", 2.0, 0.001),
            ("connect_timeout", 1.0, 0.001),
            ("wait_timeout", 1.0, 0.001),
            ("retry_deadline", 5.0, 0.0),
        ):
            check_seconds(
                name,
                getattr(self, name),
                example=example,
                error=RedisConfigError,
                minimum=minimum,
                maximum=_MAX_SECONDS,
            )
        check_count(
            "max_connections", self.max_connections, example=50, minimum=1, error=RedisConfigError
        )
        check_count("wait_replicas", self.wait_replicas, example=1, error=RedisConfigError)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RedisSettings:
        """Read the REDIS_* variables (``os.environ`` by default).

        Raises RedisConfigError naming the variable for a malformed value (a duration that is not
        a finite number of milliseconds within its range, too), an unknown mode or a mode whose
        required variables are missing.
        """
        env = Env(environ, error=RedisConfigError)
        timeout = {"minimum": 1, "maximum": MAX_TIMEOUT_MS}
        mode = _mode(env)
        deadline = cls.retry_deadline
        if mode == "cluster":
            # A cluster failover takes node-timeout plus the election: the 5 s default would fail
            # the calls in flight (benchmarks/RESULTS.md), so derive it from the node-timeout.
            node_timeout = env.millis("REDIS_CLUSTER_NODE_TIMEOUT", DEFAULT_NODE_TIMEOUT, **timeout)
            deadline = cluster_retry_deadline(node_timeout)
        return cls(
            mode=mode,
            url=env.text("REDIS_URL", cls.url),
            sentinel_hosts=env.addresses("REDIS_SENTINEL_HOSTS", example=_SENTINEL_EXAMPLE),
            cluster_nodes=env.addresses("REDIS_CLUSTER_NODES", example=_CLUSTER_EXAMPLE),
            master_name=env.text("REDIS_MASTER_NAME", cls.master_name),
            password=env.secret("REDIS_PASSWORD"),
            sentinel_password=env.secret("REDIS_SENTINEL_PASSWORD"),
            read_from_replicas=env.flag("REDIS_READ_FROM_REPLICAS", False),
            socket_timeout=env.millis("REDIS_SOCKET_TIMEOUT", cls.socket_timeout, **timeout),
            connect_timeout=env.millis("REDIS_CONNECT_TIMEOUT", cls.connect_timeout, **timeout),
            retry_deadline=env.millis("REDIS_RETRY_DEADLINE", deadline, maximum=MAX_TIMEOUT_MS),
            wait_timeout=env.millis("REDIS_WAIT_TIMEOUT", cls.wait_timeout, **timeout),
            max_connections=env.count("REDIS_MAX_CONNECTIONS", cls.max_connections, minimum=1),
            wait_replicas=env.count("REDIS_WAIT_REPLICAS", cls.wait_replicas, maximum=100),
        )


def _mode(env: Env) -> RedisMode:
    """REDIS_MODE, or the mode the original REDIS_CLUSTER_ENABLED flag implies.

    The flag stays supported for apps configured the old way: ``true`` with REDIS_SENTINEL_HOSTS
    means sentinel, with REDIS_CLUSTER_NODES cluster; unset or ``false`` means standalone.
    """
    enabled = env.flag("REDIS_CLUSTER_ENABLED", False)
    if env.raw("REDIS_MODE") is not None:
        mode = env.choice("REDIS_MODE", _MODES, "standalone")
        if enabled and mode == "standalone":
            env.fail("REDIS_MODE", "standalone contradicts REDIS_CLUSTER_ENABLED=true", "sentinel")
        return mode
    if not enabled:
        return "standalone"
    has_sentinels = env.raw("REDIS_SENTINEL_HOSTS") is not None
    if has_sentinels == (env.raw("REDIS_CLUSTER_NODES") is not None):
        env.fail(
            "REDIS_CLUSTER_ENABLED",
            "true needs exactly one of REDIS_SENTINEL_HOSTS or REDIS_CLUSTER_NODES (or set "
            "REDIS_MODE)",
            f"true with REDIS_SENTINEL_HOSTS={_SENTINEL_EXAMPLE}",
        )
    return "sentinel" if has_sentinels else "cluster"
