"""The Pulumi program: validate the config, build the topology, declare it, export the endpoints."""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker
from pulumi.runtime.config import CONFIG, get_config_env, is_config_secret

from stacks.components import (
    AppService,
    ContainerGroupArgs,
    Monitoring,
    Postgres,
    RedisGroup,
    StackImages,
    StackImagesArgs,
    StackNetwork,
    StackNetworkArgs,
    StackSecrets,
)
from stacks.model import SECRET_CONFIG_KEYS, Topology, build_topology, load_settings
from stacks.model.config import PROJECT, ConfigReader
from stacks.model.platform import read_platform
from stacks.model.secret_keys import plain_secret_error
from stacks.model.spec import Group
from stacks.model.stackfile import REPO_ROOT, other_stack_subnets

__all__ = [
    "SECRETS_OUTPUT",
    "StackResources",
    "check_secrets_encrypted",
    "declare_stack",
    "main",
    "raw_config",
]

SECRETS_OUTPUT = "secrets"  # the stack output holding {REDIS_PASSWORD: ..., ...}


@dataclass(frozen=True)
class StackResources:
    topology: Topology
    secrets: StackSecrets
    images: StackImages
    network: StackNetwork
    redis: RedisGroup
    postgres: Postgres
    monitoring: Monitoring
    app: AppService


def raw_config() -> dict[str, object]:
    """The project's non-secret config values (secret ones never reach the model)."""
    merged = {**get_config_env(), **CONFIG.get()}
    secret_keys = {f"{PROJECT}:{key}" for key in SECRET_CONFIG_KEYS}
    return {
        key: value
        for key, value in merged.items()
        if key.startswith(f"{PROJECT}:") and key not in secret_keys
    }


def check_secrets_encrypted() -> None:
    """StackConfigError for a secret key set in plain text (``pulumi config set`` without
    ``--secret``): it would sit unencrypted in Pulumi.<stack>.yaml."""
    merged = {**get_config_env(), **CONFIG.get()}
    for key in SECRET_CONFIG_KEYS:
        full_key = f"{PROJECT}:{key}"
        if full_key in merged and not is_config_secret(full_key):
            raise plain_secret_error(key, "the stack's config")


def declare_stack(stack: str, raw: Mapping[str, object]) -> StackResources:
    """Declare every resource of ``stack``; StackConfigError before any resource on bad config
    (a value, a plain-text secret, a subnet another committed stack uses)."""
    check_secrets_encrypted()
    settings = load_settings(stack, raw, other_subnets=other_stack_subnets(stack))
    topology = build_topology(settings)
    prefix = topology.network.name
    secrets = StackSecrets(f"{prefix}-secrets", pulumi.Config(PROJECT))
    images = StackImages(
        f"{prefix}-images",
        StackImagesArgs(topology.images, topology.base_image, topology.build_images, REPO_ROOT),
    )
    network = StackNetwork(prefix, StackNetworkArgs(topology.network))
    declared: dict[str, docker.Container] = {}

    def args(group: Group) -> ContainerGroupArgs:
        return ContainerGroupArgs(
            specs=topology.group(group),
            volumes=topology.volumes,
            network=network.network,
            # An app replica pinned to another version (appImageTags, scripts/rollout) runs that
            # image as it is; the built images run by id.
            images={**{c.image: c.image for c in topology.containers}, **images.refs},
            secrets=secrets.values,
            declared=dict(declared),
        )

    # Declared in dependency order, each group seeing the containers before it.
    redis = RedisGroup(f"{prefix}-redis", args("redis"))
    declared.update(redis.containers)
    postgres = Postgres(f"{prefix}-postgres", args("postgres"))
    declared.update(postgres.containers)
    monitoring = Monitoring(f"{prefix}-monitoring", args("monitoring"))
    declared.update(monitoring.containers)
    app = AppService(f"{prefix}-app", args("app"))
    for key, value in topology.endpoints.items():
        pulumi.export(key, value)
    # Secret (encrypted in the state): the testinfra suites and drills read it with
    # `pulumi stack output secrets --show-secrets`, as they read .env for a compose deployment.
    pulumi.export(SECRETS_OUTPUT, pulumi.Output.secret(pulumi.Output.all(**secrets.values)))
    return StackResources(topology, secrets, images, network, redis, postgres, monitoring, app)


def main() -> None:
    """Declare the stack Pulumi runs: the Swarm program for ``ha-stack:platform: swarm``."""
    stack, raw = pulumi.get_stack(), raw_config()
    if read_platform(ConfigReader(raw)) == "swarm":
        # Imported here: stacks.swarm_program imports this module's secret checks.
        from stacks.swarm_program import declare_swarm_stack

        declare_swarm_stack(stack, raw)
        return
    declare_stack(stack, raw)
