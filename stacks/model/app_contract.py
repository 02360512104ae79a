"""The stack-to-app contract: the environment every app process of a stack gets.

Each setting is emitted once, in the form docs/architecture.md's table documents: ``REDIS_MODE``
(not the original ``REDIS_CLUSTER_ENABLED`` flag next to it) and a plain ``DATABASE_URL`` next to
``DATABASE_CONNECTION_LIMIT`` / ``DATABASE_TIMEOUT`` (no Prisma ``connection_limit`` /
``pool_timeout`` parameters repeating them). app_support still reads the old forms for apps
configured that way. tests/stacks/model/test_app_contract.py feeds this environment, for every
stack and Redis mode, to each settings reader of app_support and the reference app.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from stacks.model.endpoints import (
    APP_PORT,
    cluster_nodes,
    postgres_dsn,
    redis_url,
    sentinel_hosts,
)
from stacks.model.layout import Layout
from stacks.model.spec import resolve_env

__all__ = ["AppEnvironment", "app_environment", "cluster_retry_deadline_ms"]

# The most app_support accepts for REDIS_RETRY_DEADLINE (app_support.redis.settings.MAX_TIMEOUT_MS).
_MAX_RETRY_DEADLINE_MS = 600_000


def cluster_retry_deadline_ms(node_timeout_ms: int) -> int:
    """How long one Redis command keeps retrying in cluster mode: 2 x node-timeout + 2 s.

    A killed master's replica is promoted once the master has been unreachable for node-timeout,
    the failure reports have reached a majority of masters (gossip, up to another node-timeout)
    and its election delay (0.5-1 s) has passed; the client then needs up to one socket timeout
    (2 s) to find the new owner. Measured locally: node-timeout + 1.9-4.1 s (benchmarks/RESULTS.md).
    """
    return min(2 * node_timeout_ms + 2000, _MAX_RETRY_DEADLINE_MS)


@dataclass(frozen=True)
class AppEnvironment:
    """Plain variables and secret templates (``${POSTGRES_PASSWORD}``) of every app process."""

    env: Mapping[str, str]
    secret_env: Mapping[str, str]

    def resolved(self, secrets: Mapping[str, str]) -> dict[str, str]:
        """The environment a process sees once ``secrets`` (name -> value) fill the templates;
        KeyError for a secret that ``secrets`` lacks."""
        return resolve_env(self.env, self.secret_env, secrets)


def app_environment(layout: Layout) -> AppEnvironment:
    """The app environment of the stack ``layout`` places (the same for web and worker)."""
    settings = layout.settings
    redis, app = settings.redis, settings.app
    env = {
        "APP_ENV": app.env,
        "PORT": str(APP_PORT),
        "REDIS_MODE": redis.mode,
        "DATABASE_CONNECTION_LIMIT": str(app.pool_size),
        "DATABASE_TIMEOUT": str(app.database_timeout_ms),
        "DATABASE_RETRY_ATTEMPTS": str(app.database_retry_attempts),
        # Job enqueue and session create wait for replicas (0 in standalone mode: none exist).
        "REDIS_WAIT_REPLICAS": str(redis.app_wait_replicas),
        "REDIS_WAIT_TIMEOUT": str(redis.wait_timeout_ms),
    }
    secret_env = {
        "REDIS_PASSWORD": "${REDIS_PASSWORD}",
        "DATABASE_URL": postgres_dsn(layout),
        "METRICS_TOKEN": "${METRICS_TOKEN}",
    }
    if redis.mode == "standalone":
        env["REDIS_URL"] = redis_url(layout)
    elif redis.mode == "sentinel":
        env["REDIS_SENTINEL_HOSTS"] = sentinel_hosts(layout)
        env["REDIS_MASTER_NAME"] = redis.master_name
        secret_env["REDIS_SENTINEL_PASSWORD"] = "${REDIS_SENTINEL_PASSWORD}"  # noqa: S105
    else:
        env["REDIS_CLUSTER_NODES"] = ",".join(cluster_nodes(layout))
        env["REDIS_RETRY_DEADLINE"] = str(cluster_retry_deadline_ms(redis.cluster_node_timeout_ms))
    return AppEnvironment(env, secret_env)
