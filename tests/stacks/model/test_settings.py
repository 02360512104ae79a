"""Settings validation: every bad value names its key and an accepted value, before any I/O."""

import ipaddress

import pytest

from stacks.model import (
    SECRET_CONFIG_KEYS,
    SECRET_NAMES,
    StackConfigError,
    check_secret_value,
    load_settings,
)
from stacks.model.stackfile import stack_settings


def test_empty_config_is_a_valid_small_stack() -> None:
    settings = load_settings("dev", {})
    assert settings.redis.mode == "sentinel"
    assert settings.subnet == ipaddress.IPv4Network("172.28.10.0/24")
    assert load_settings("prod", {}).subnet == ipaddress.IPv4Network("172.28.20.0/24")
    assert settings.publish.address == "127.0.0.1"
    assert settings.images.name("redis") == "ha-stack/redis:latest"


def test_committed_stacks_load_with_the_agreed_shape() -> None:
    dev, prod = stack_settings("dev"), stack_settings("prod")
    assert (dev.redis.sentinels, dev.redis.quorum, dev.redis.down_after_ms) == (3, 2, 2000)
    assert (dev.app.web_replicas, dev.app.workers, dev.app.metrics_secured) == (2, 1, False)
    assert (prod.redis.sentinels, prod.redis.quorum, prod.redis.replicas) == (3, 2, 2)
    assert (prod.app.web_replicas, prod.app.workers, prod.app.metrics_secured) == (3, 2, True)
    assert prod.redis.down_after_ms > dev.redis.down_after_ms
    assert prod.publish.services == ("app",)
    assert prod.publish.address == "0.0.0.0"
    assert prod.protect_data
    assert not dev.protect_data


def test_max_connections_covers_every_pool_plus_headroom() -> None:
    settings = load_settings(
        "dev",
        {
            "ha-stack:appReplicas": "4",
            "ha-stack:appWorkers": "3",
            "ha-stack:databasePoolSize": "7",
            "ha-stack:postgresHeadroom": "12",
        },
    )
    assert settings.max_connections == (4 + 3) * 7 + 12


def test_cli_strings_and_yaml_scalars_read_the_same() -> None:
    from_cli = load_settings(
        "dev",
        {
            "ha-stack:redisReplicas": "2",
            "ha-stack:buildImages": "false",
            "ha-stack:publish": '["app","postgres"]',
        },
    )
    from_yaml = load_settings(
        "dev",
        {
            "ha-stack:redisReplicas": 2,
            "ha-stack:buildImages": False,
            "ha-stack:publish": ["app", "postgres"],
        },
    )
    assert from_cli == from_yaml
    assert from_cli.publish.services == ("app", "postgres")
    assert load_settings("dev", {"ha-stack:publish": "app, prometheus"}).publish.services == (
        "app",
        "prometheus",
    )


@pytest.mark.parametrize(
    ("key", "value", "example"),
    [
        ("redisMode", "replicated", "standalone"),
        ("redisReplicas", "two", "1"),
        ("redisReplicas", "0", "2"),
        ("sentinelQuorum", "4", "2"),
        ("sentinelDownAfterMs", "10", "5000"),
        ("appReplicas", True, "2"),
        ("appEnv", "staging", "development"),
        ("subnet", "10.0.0.0/28", "172.28.10.0/24"),
        ("subnet", "8.8.8.0/24", "172.28.10.0/24"),
        ("subnet", "172.28.10.1/24", "172.28.10.0/24"),
        ("publishAddress", "localhost", "127.0.0.1"),
        ("publish", '["app","redis"]', "'[\"app\"]'"),
        ("prometheusScrapeInterval", "15", "15s"),
        ("buildImages", "yes", "true"),
        ("redisMasterName", "my master", "mymaster"),
        ("redisMinReplicasToWrite", "-1", "1"),
        ("redisMinReplicasToWrite", "2", "1"),  # exceeds redisReplicas 1
        ("redisMinReplicasMaxLagS", "0", "5"),
        ("redisMinReplicasMaxLagS", "2.5", "5"),
        ("redisWaitReplicas", "2", "1"),  # exceeds redisReplicas 1
        ("redisWaitTimeoutMs", "0", "1000"),
        # The app refuses DATABASE_RETRY_ATTEMPTS=0 (at least one attempt).
        ("databaseRetryAttempts", "0", "5"),
    ],
)
def test_bad_values_name_the_key_and_a_good_value(key: str, value: object, example: str) -> None:
    with pytest.raises(StackConfigError) as caught:
        load_settings("dev", {f"ha-stack:{key}": value})
    assert caught.value.key == f"ha-stack:{key}"
    assert caught.value.example == example
    assert f"pulumi config set {key} {example}" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_durability_defaults_put_durability_first() -> None:
    redis = load_settings("dev", {}).redis
    assert (redis.min_replicas_to_write, redis.wait_replicas, redis.app_wait_replicas) == (1, 1, 1)
    assert redis.min_replicas_max_lag_s >= 1
    dev, prod = stack_settings("dev").redis, stack_settings("prod").redis
    assert (dev.replicas, dev.min_replicas_to_write, dev.min_replicas_max_lag_s) == (1, 1, 2)
    # Prod has a spare replica: one may fail and the master still takes writes.
    assert (prod.replicas, prod.min_replicas_to_write, prod.min_replicas_max_lag_s) == (2, 1, 5)
    assert dev.wait_replicas == prod.wait_replicas == 1


def test_durability_settings_follow_the_replica_count() -> None:
    two = load_settings(
        "dev", {"ha-stack:redisReplicas": 2, "ha-stack:redisMinReplicasToWrite": 2,
                "ha-stack:redisWaitReplicas": 2},
    ).redis  # fmt: skip
    assert (two.min_replicas_to_write, two.wait_replicas) == (2, 2)
    with pytest.raises(StackConfigError, match="exceeds redisReplicas 2") as caught:
        load_settings("dev", {"ha-stack:redisReplicas": 2, "ha-stack:redisWaitReplicas": 3})
    assert caught.value.key == "ha-stack:redisWaitReplicas"
    # Standalone has no replica: it waits for none, whatever the sentinel-mode settings say.
    standalone = load_settings("dev", {"ha-stack:redisMode": "standalone",
                                       "ha-stack:redisWaitReplicas": 1}).redis  # fmt: skip
    assert standalone.app_wait_replicas == 0
    with pytest.raises(StackConfigError, match="1 replica per master") as caught:
        load_settings("dev", {"ha-stack:redisMode": "cluster", "ha-stack:redisReplicas": 2,
                              "ha-stack:redisWaitReplicas": 2})  # fmt: skip
    assert caught.value.example == "1"


def test_unknown_keys_are_refused_and_other_projects_ignored() -> None:
    with pytest.raises(StackConfigError, match="ha-stack:redisReplica: unknown setting"):
        load_settings("dev", {"ha-stack:redisReplica": "2"})
    assert load_settings("dev", {"docker:host": "unix:///var/run/docker.sock"}).stack == "dev"


def test_modes_other_than_sentinel_ignore_replica_and_sentinel_settings() -> None:
    # Switching redisMode alone (the migration drill) must not trip over sentinel-only settings.
    settings = load_settings(
        "dev", {"ha-stack:redisMode": "standalone", "ha-stack:sentinelQuorum": "3",
                "ha-stack:sentinelCount": "1", "ha-stack:redisReplicas": "0"},
    )  # fmt: skip
    assert settings.redis.mode == "standalone"


def test_bad_stack_name() -> None:
    with pytest.raises(StackConfigError, match="stack"):
        load_settings("Dev Stack", {})


def test_secret_config_keys_cover_every_secret() -> None:
    assert sorted(SECRET_CONFIG_KEYS.values()) == sorted(SECRET_NAMES)


def test_secret_values_must_be_url_safe() -> None:
    assert check_secret_value("postgresPassword", "a1B2.c3_d4~e5-f6") == "a1B2.c3_d4~e5-f6"
    for bad in ("short", "has space inside", "p@ss/word:with#url-chars"):
        with pytest.raises(StackConfigError, match=r"^ha-stack:postgresPassword: .*openssl rand"):
            check_secret_value("postgresPassword", bad)
