"""The stack-to-app contract: the environment each stack and Redis mode gives the app is accepted by
every settings reader of app_support and the reference app, and yields the intended values.

Before this test the two met only in a deployed stack. Secrets are sample values of the shape the
stacks generate (URL-safe, long enough for a production METRICS_TOKEN).
"""

import logging
import re
from pathlib import Path

import pytest
from psycopg import conninfo

from app_support.health import HealthSettings
from app_support.metrics import MetricsSettings
from app_support.postgres import DatabaseSettings
from app_support.redis import RedisSettings
from reference_app.config import AppConfig
from stacks.model import SECRET_NAMES, StackConfigError, StackSettings, load_settings
from stacks.model.app_contract import AppEnvironment, app_environment
from stacks.model.layout import Layout
from stacks.model.stackfile import read_stack_config, stack_settings

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_SECRETS = {
    name: f"sample-{name.lower().replace('_', '-')}-0123456789" for name in SECRET_NAMES
}
STACKS = ["dev", "prod"]
MODES = ["standalone", "sentinel", "cluster"]


def _environment(settings: StackSettings) -> tuple[AppEnvironment, dict[str, str]]:
    contract = app_environment(Layout(settings))
    return contract, contract.resolved(SAMPLE_SECRETS)


def _check_readers(settings: StackSettings, environ: dict[str, str]) -> None:
    """Every reader accepts ``environ`` and reads what the stack settings intend."""
    layout = Layout(settings)
    redis_settings, app = settings.redis, settings.app

    redis = RedisSettings.from_env(environ)
    assert redis.mode == redis_settings.mode
    assert redis.password == SAMPLE_SECRETS["REDIS_PASSWORD"]
    assert redis.wait_replicas == redis_settings.app_wait_replicas
    assert redis.wait_timeout == redis_settings.wait_timeout_ms / 1000
    if redis.mode == "standalone":
        assert redis.url == f"redis://{layout.redis_nodes()[0].ip}:6379/0"
    elif redis.mode == "sentinel":
        assert redis.sentinel_hosts == tuple((s.ip, 26379) for s in layout.sentinels())
        assert redis.master_name == redis_settings.master_name
        assert redis.sentinel_password == SAMPLE_SECRETS["REDIS_SENTINEL_PASSWORD"]
    else:
        assert redis.cluster_nodes == tuple((n.ip, 6379) for n in layout.redis_nodes())
        assert len(redis.cluster_nodes) == 6
        # A command outlives a master's failover: node-timeout, gossip, election, rediscovery.
        node_timeout = redis_settings.cluster_node_timeout_ms / 1000
        assert redis.retry_deadline >= min(2 * node_timeout + 2, 600)

    database = DatabaseSettings.from_env(environ)
    assert database.max_size == app.pool_size
    assert database.acquire_timeout == app.database_timeout_ms / 1000
    assert database.retry_attempts == app.database_retry_attempts
    assert conninfo.conninfo_to_dict(database.url) == {
        "user": settings.postgres.user,
        "password": SAMPLE_SECRETS["POSTGRES_PASSWORD"],
        "host": layout.one("postgres").ip,
        "port": "5432",
        "dbname": settings.postgres.database,
    }

    production = app.env == "production"
    metrics = MetricsSettings.from_env(environ)
    assert (metrics.environment, metrics.secured) == (app.env, production)
    assert metrics.token == SAMPLE_SECRETS["METRICS_TOKEN"]
    health = HealthSettings.from_env(environ)
    assert (health.environment, health.production) == (app.env, production)
    assert health.metrics_token == SAMPLE_SECRETS["METRICS_TOKEN"]
    config = AppConfig.from_env(environ)
    assert (config.environment, config.port, config.secure_cookies) == (app.env, 8000, production)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stack", STACKS)
def test_every_reader_accepts_the_stack_environment(
    stack: str, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = stack_settings(stack, {"ha-stack:redisMode": mode})
    _, environ = _environment(settings)
    with caplog.at_level(logging.WARNING):
        _check_readers(settings, environ)
    # A variable overriding a different URL parameter would be logged: nothing is said twice.
    assert not caplog.records


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stack", STACKS)
def test_each_setting_is_emitted_once(stack: str, mode: str) -> None:
    contract, environ = _environment(stack_settings(stack, {"ha-stack:redisMode": mode}))
    assert not set(contract.env) & set(contract.secret_env)
    assert "REDIS_CLUSTER_ENABLED" not in environ  # REDIS_MODE says it
    # DATABASE_CONNECTION_LIMIT / DATABASE_TIMEOUT say what the Prisma parameters would repeat.
    assert "?" not in environ["DATABASE_URL"]
    addresses = {"REDIS_URL", "REDIS_SENTINEL_HOSTS", "REDIS_CLUSTER_NODES"} & set(environ)
    assert len(addresses) == 1
    # Secrets only ever reach the app through the templates, never as plain values.
    assert all(value not in contract.env.values() for value in SAMPLE_SECRETS.values())


def test_every_variable_is_in_the_documented_contract() -> None:
    table = (ROOT / "docs" / "architecture.md").read_text()
    section = table.split("## Environment variables the app reads", 1)[1].split("\n## ", 1)[0]
    documented = {
        name
        for line in section.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1])
    }
    emitted = set().union(
        *(
            _environment(stack_settings(stack, {"ha-stack:redisMode": mode}))[1]
            for stack in STACKS
            for mode in MODES
        )
    )
    assert emitted <= documented, sorted(emitted - documented)


# Stack settings that reach the app environment, with the validator's bounds: the app must accept
# both ends, and the validator must refuse one step beyond either.
BOUNDS = [
    ("databaseRetryAttempts", 1, 100, {}),
    ("databasePoolSize", 1, 200, {}),
    ("databaseTimeoutMs", 100, 600_000, {}),
    ("redisWaitTimeoutMs", 10, 60_000, {}),
    ("redisWaitReplicas", 0, 8, {"ha-stack:redisReplicas": 8}),
    ("clusterNodeTimeoutMs", 500, 600_000, {"ha-stack:redisMode": "cluster"}),
]


@pytest.mark.parametrize(("key", "low", "high", "extra"), BOUNDS)
@pytest.mark.parametrize("stack", STACKS)
def test_the_app_accepts_every_value_the_validator_accepts(
    stack: str, key: str, low: int, high: int, extra: dict[str, object]
) -> None:
    raw = {**read_stack_config(stack), **extra}
    for value in (low, high):
        settings = load_settings(stack, {**raw, f"ha-stack:{key}": value})
        _check_readers(settings, _environment(settings)[1])
    for value in (low - 1, high + 1):
        with pytest.raises(StackConfigError) as caught:
            load_settings(stack, {**raw, f"ha-stack:{key}": value})
        assert caught.value.key == f"ha-stack:{key}"
