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
        ({"REDIS_CONNECT_TIMEOUT": "0"}, "REDIS_CONNECT_TIMEOUT", "1000"),
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
    with pytest.raises(RedisConfigError, match=r"^socket_timeout: 'inf' is not a finite number"):
        RedisSettings(socket_timeout=float("inf"))
    with pytest.raises(RedisConfigError, match=r"^retry_deadline: 'nan' is not a finite number"):
        RedisSettings(retry_deadline=float("nan"))
    with pytest.raises(RedisConfigError, match=r"^max_connections: 'True' is not a whole number"):
        RedisSettings(max_connections=True)


# Issue 13.7: inf / nan made sign-in hang forever and the metrics collector overflow.
@pytest.mark.parametrize(
    "variable", ["REDIS_RETRY_DEADLINE", "REDIS_SOCKET_TIMEOUT", "REDIS_CONNECT_TIMEOUT",
                 "REDIS_WAIT_TIMEOUT"],
)  # fmt: skip
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "Infinity", "-5", "1e12", "9" * 400])
def test_durations_are_finite_and_bounded(variable: str, value: str) -> None:
    with pytest.raises(RedisConfigError) as caught:
        RedisSettings.from_env({variable: value})
    message = str(caught.value)
    assert message.startswith(f"{variable}: {value!r} is ")
    assert f"; for example {variable}=" in message
    assert caught.value.variable == variable


def test_the_largest_durations_are_accepted() -> None:
    settings = RedisSettings.from_env(
        {"REDIS_RETRY_DEADLINE": "0", "REDIS_SOCKET_TIMEOUT": "600000", "REDIS_WAIT_TIMEOUT": "1"}
    )
    assert (settings.retry_deadline, settings.socket_timeout, settings.wait_timeout) == (
        0.0,
        600.0,
        0.001,
    )


def test_the_exact_wording() -> None:
    with pytest.raises(RedisConfigError) as caught:
        RedisSettings.from_env({"REDIS_SOCKET_TIMEOUT": "inf"})
    assert str(caught.value) == (
        "REDIS_SOCKET_TIMEOUT: 'inf' is not a finite number of milliseconds; "
        "for example REDIS_SOCKET_TIMEOUT=2000"
    )


# Issue 13.11: these raised errors that did not name the variable.
@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"REDIS_URL": "redis://[::1:6379/0"}, "REDIS_URL"),
        ({"REDIS_URL": "redis://redis:99999/0"}, "REDIS_URL"),
        ({"REDIS_SENTINEL_HOSTS": "[::1:26379"}, "REDIS_SENTINEL_HOSTS"),
        ({"REDIS_CLUSTER_NODES": "n1:99999"}, "REDIS_CLUSTER_NODES"),
        ({"REDIS_CLUSTER_NODES": "n1:\u00b2"}, "REDIS_CLUSTER_NODES"),
        ({"REDIS_MAX_CONNECTIONS": "\u00b2"}, "REDIS_MAX_CONNECTIONS"),
        ({"REDIS_MODE": "Sharded"}, "REDIS_MODE"),
    ],
)
def test_malformed_values_are_named(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(RedisConfigError, match=f"^{variable}: .*; for example {variable}="):
        RedisSettings.from_env(environ)


def test_ipv6_addresses_and_any_case_mode() -> None:
    settings = RedisSettings.from_env(
        {"REDIS_MODE": "Sentinel", "REDIS_SENTINEL_HOSTS": "[::1]:26379, s2:26380"}
    )
    assert settings.mode == "sentinel"
    assert settings.sentinel_hosts == (("::1", 26379), ("s2", 26380))


# Issue 13.5: the password of a URL with another scheme was printed.
@pytest.mark.parametrize(
    "url", ["http://:hunter2@redis:6379", "redis+sentinel://:hunter2@s1:26379/mymaster",
            "redis://[::1:hunter2@x", "mysql://app:hunter2@db/app"],
)  # fmt: skip
def test_url_errors_hide_the_password(url: str) -> None:
    with pytest.raises(RedisConfigError, match=r"^REDIS_URL: ") as caught:
        RedisSettings.from_env({"REDIS_URL": url})
    assert "hunter2" not in str(caught.value)


def test_cluster_enabled_flag_stays_supported_next_to_redis_mode() -> None:
    """Apps configured the old way keep working; REDIS_MODE wins when both are set."""
    nodes = {"REDIS_CLUSTER_NODES": "n1:7000"}
    assert RedisSettings.from_env({"REDIS_CLUSTER_ENABLED": "false"}).mode == "standalone"
    assert RedisSettings.from_env({"REDIS_CLUSTER_ENABLED": "TRUE", **nodes}).mode == "cluster"
    both = {"REDIS_CLUSTER_ENABLED": "true", "REDIS_MODE": "cluster", **nodes}
    assert RedisSettings.from_env(both).mode == "cluster"
    sentinel = {"REDIS_CLUSTER_ENABLED": "on", "REDIS_SENTINEL_HOSTS": "s:1", **nodes}
    with pytest.raises(RedisConfigError, match=r"^REDIS_CLUSTER_ENABLED: true needs exactly one"):
        RedisSettings.from_env(sentinel)
