"""RedisSettings: defaults, env parsing and the one clear error for every bad value."""

from __future__ import annotations

import pytest

from app_support.redis import RedisConfigError, RedisSettings


def test_nothing_set_means_one_local_instance() -> None:
    settings = RedisSettings.from_env({})
    assert settings.mode == "standalone"
    assert settings.url == "redis://localhost:6379/0"
    assert settings.master_name == "mymaster"


def test_original_flag_with_sentinel_hosts_means_sentinel() -> None:
    settings = RedisSettings.from_env(
        {
            "REDIS_CLUSTER_ENABLED": "true",
            "REDIS_SENTINEL_HOSTS": "s1:26379, s2:26380",
            "REDIS_PASSWORD": "data",
            "REDIS_SENTINEL_PASSWORD": "sent",
            "REDIS_SOCKET_TIMEOUT": "250",
            "REDIS_CONNECT_TIMEOUT": "100",
            "REDIS_READ_FROM_REPLICAS": "yes",
            "REDIS_WAIT_REPLICAS": "1",
        }
    )
    assert settings.mode == "sentinel"
    assert settings.sentinel_hosts == (("s1", 26379), ("s2", 26380))
    assert (settings.password, settings.sentinel_password) == ("data", "sent")
    assert (settings.socket_timeout, settings.connect_timeout) == (0.25, 0.1)
    assert settings.read_from_replicas is True
    assert settings.wait_replicas == 1


def test_original_flag_with_cluster_nodes_means_cluster() -> None:
    settings = RedisSettings.from_env(
        {"REDIS_CLUSTER_ENABLED": "1", "REDIS_CLUSTER_NODES": "n1:7000,n2:7001"}
    )
    assert settings.mode == "cluster"
    assert settings.cluster_nodes == (("n1", 7000), ("n2", 7001))


def test_passwords_are_not_in_repr() -> None:
    settings = RedisSettings(password="secret-data", sentinel_password="secret-sentinel")
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "variable", "example"),
    [
        ({"REDIS_MODE": "sharded"}, "REDIS_MODE", "sentinel"),
        ({"REDIS_MODE": "sentinel"}, "REDIS_SENTINEL_HOSTS", "sentinel-1:26379"),
        ({"REDIS_MODE": "cluster"}, "REDIS_CLUSTER_NODES", "redis-1:6379"),
        (
            {"REDIS_MODE": "sentinel", "REDIS_SENTINEL_HOSTS": "sentinel-1"},
            "REDIS_SENTINEL_HOSTS",
            "sentinel-1:26379",
        ),
        ({"REDIS_CLUSTER_NODES": "n1:notaport"}, "REDIS_CLUSTER_NODES", "redis-1:6379"),
        ({"REDIS_CLUSTER_ENABLED": "true"}, "REDIS_CLUSTER_ENABLED", "REDIS_SENTINEL_HOSTS="),
        ({"REDIS_CLUSTER_ENABLED": "maybe"}, "REDIS_CLUSTER_ENABLED", "true"),
        (
            {"REDIS_MODE": "standalone", "REDIS_CLUSTER_ENABLED": "true"},
            "REDIS_MODE",
            "sentinel",
        ),
        ({"REDIS_URL": "http://redis:6379"}, "REDIS_URL", "redis://redis:6379/0"),
        ({"REDIS_SOCKET_TIMEOUT": "2s"}, "REDIS_SOCKET_TIMEOUT", "2000"),
        ({"REDIS_CONNECT_TIMEOUT": "0"}, "REDIS_CONNECT_TIMEOUT", "2000"),
        ({"REDIS_WAIT_REPLICAS": "-1"}, "REDIS_WAIT_REPLICAS", "1"),
        ({"REDIS_READ_FROM_REPLICAS": "sometimes"}, "REDIS_READ_FROM_REPLICAS", "true"),
    ],
)
def test_bad_values_name_the_variable_and_a_good_example(
    environ: dict[str, str], variable: str, example: str
) -> None:
    with pytest.raises(RedisConfigError) as caught:
        RedisSettings.from_env(environ)
    message = str(caught.value)
    assert message.startswith(f"{variable}:")
    assert example in message
    assert isinstance(caught.value, ValueError)


def test_keyword_construction_is_validated_too() -> None:
    with pytest.raises(RedisConfigError, match="REDIS_SENTINEL_HOSTS"):
        RedisSettings(mode="sentinel")
