"""The platform setting (issue 16): docker by default, swarm validated before anything is
declared, each refusal naming its key and a value that is then accepted."""

import pytest

from stacks.model import StackConfigError, load_settings
from stacks.model.stackfile import read_stack_config

SWARM: dict[str, object] = {
    **read_stack_config("prod-swarm"),
    "ha-stack:subnet": "10.99.0.0/24",  # off every committed stack's subnet
}


def _refused(raw: dict[str, object], key: str) -> StackConfigError:
    with pytest.raises(StackConfigError) as caught:
        load_settings("swarm-test", raw)
    assert caught.value.key == f"ha-stack:{key}", caught.value
    # The suggested value is accepted.
    load_settings("swarm-test", {**raw, f"ha-stack:{key}": caught.value.example})
    return caught.value


def test_platform_defaults_to_docker_and_prod_swarm_is_swarm() -> None:
    assert load_settings("dev", {}).platform == "docker"
    settings = load_settings("swarm-test", SWARM)
    assert settings.platform == "swarm"
    assert (settings.swarm.nodes, settings.swarm.postgres_node) == (3, 1)


def test_unknown_platform_is_refused_naming_the_choices() -> None:
    with pytest.raises(StackConfigError) as caught:
        load_settings("dev", {"ha-stack:platform": "kubernetes"})
    assert caught.value.key == "ha-stack:platform"
    assert "docker, swarm" in str(caught.value)


@pytest.mark.parametrize(
    ("override", "key", "words"),
    [
        ({"ha-stack:redisReplicas": 3}, "redisReplicas", "4 nodes, swarmNodes is 3"),
        ({"ha-stack:sentinelCount": 5}, "sentinelCount", "5 Sentinels need 5 nodes"),
        ({"ha-stack:appReplicas": 4}, "appReplicas", "host mode, one per node"),
        ({"ha-stack:redisMode": "cluster"}, "redisMode", "not supported on platform swarm"),
        ({"ha-stack:publishAddress": "127.0.0.1"}, "publishAddress", "every address"),
        ({"ha-stack:buildImages": True}, "buildImages", "load them on each node"),
        ({"ha-stack:protectData": True}, "protectData", "cannot be protected"),
        ({"ha-stack:swarmPostgresNode": 4}, "swarmPostgresNode", "past swarmNodes 3"),
        ({"ha-stack:swarmNodes": 0}, "swarmNodes", ""),
    ],
)
def test_swarm_settings_it_cannot_honour_are_refused(
    override: dict[str, object], key: str, words: str
) -> None:
    error = _refused({**SWARM, **override}, key)
    assert words in str(error)


def test_docker_platform_keeps_its_own_rules() -> None:
    # Four web replicas on one engine are fine: the one-per-node rule is the Swarm's.
    settings = load_settings("dev", {"ha-stack:appReplicas": 4, "ha-stack:swarmNodes": 1})
    assert settings.platform == "docker"
