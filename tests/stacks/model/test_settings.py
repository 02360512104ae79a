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
    ],
)
def test_bad_values_name_the_key_and_a_good_value(key: str, value: object, example: str) -> None:
    with pytest.raises(StackConfigError) as caught:
        load_settings("dev", {f"ha-stack:{key}": value})
    assert caught.value.key == f"ha-stack:{key}"
    assert caught.value.example == example
    assert f"pulumi config set {key} {example}" in str(caught.value)
    assert isinstance(caught.value, ValueError)


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
