"""The cluster-mode retry deadline apps outside the stacks get: 2 x node-timeout + 2 s, from
REDIS_CLUSTER_NODE_TIMEOUT (Redis's default 15000 ms when unset); REDIS_RETRY_DEADLINE wins."""

import pytest

from app_support.redis import RedisSettings
from app_support.redis.cluster_deadline import (
    DEFAULT_NODE_TIMEOUT,
    MAX_DEADLINE,
    cluster_retry_deadline,
)
from app_support.redis.errors import RedisConfigError
from stacks.model.app_contract import cluster_retry_deadline_ms

NODES = {"REDIS_MODE": "cluster", "REDIS_CLUSTER_NODES": "n1:7000,n2:7001,n3:7002"}


def test_the_deadline_covers_two_node_timeouts_and_the_election() -> None:
    assert cluster_retry_deadline(5.0) == 12.0
    assert cluster_retry_deadline(2.0) == 6.0
    assert cluster_retry_deadline() == 2 * DEFAULT_NODE_TIMEOUT + 2 == 32.0
    assert cluster_retry_deadline(400.0) == MAX_DEADLINE


@pytest.mark.parametrize("node_timeout", [0.0, -1.0, float("nan")])
def test_a_node_timeout_that_is_not_positive_is_refused(node_timeout: float) -> None:
    with pytest.raises(ValueError, match="node_timeout must be positive"):
        cluster_retry_deadline(node_timeout)


@pytest.mark.parametrize("node_timeout_ms", [500, 2000, 5000, 15000, 600_000])
def test_the_stacks_and_app_support_agree(node_timeout_ms: int) -> None:
    stacks = cluster_retry_deadline_ms(node_timeout_ms) / 1000
    assert cluster_retry_deadline(node_timeout_ms / 1000) == stacks


def test_cluster_mode_without_a_deadline_derives_it_from_the_node_timeout() -> None:
    assert RedisSettings.from_env(NODES).retry_deadline == 32.0
    given = {**NODES, "REDIS_CLUSTER_NODE_TIMEOUT": "5000"}
    assert RedisSettings.from_env(given).retry_deadline == 12.0


def test_an_explicit_deadline_wins_over_the_node_timeout() -> None:
    given = {**NODES, "REDIS_CLUSTER_NODE_TIMEOUT": "5000", "REDIS_RETRY_DEADLINE": "3000"}
    assert RedisSettings.from_env(given).retry_deadline == 3.0


def test_other_modes_keep_their_default_and_ignore_the_node_timeout() -> None:
    for environ in ({}, {"REDIS_MODE": "sentinel", "REDIS_SENTINEL_HOSTS": "s1:26379"}):
        settings = RedisSettings.from_env({**environ, "REDIS_CLUSTER_NODE_TIMEOUT": "5000"})
        assert settings.retry_deadline == RedisSettings.retry_deadline


@pytest.mark.parametrize("value", ["0", "-5", "soon", "inf", "600001"])
def test_a_bad_node_timeout_names_the_variable(value: str) -> None:
    with pytest.raises(RedisConfigError, match="REDIS_CLUSTER_NODE_TIMEOUT"):
        RedisSettings.from_env({**NODES, "REDIS_CLUSTER_NODE_TIMEOUT": value})
