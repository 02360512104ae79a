"""Assemble the whole stack (network, volumes, containers, images, endpoints) from its settings."""

from collections import Counter

from stacks.model.containers import (
    app_containers,
    monitoring_containers,
    postgres_backup_container,
    postgres_container,
    redis_containers,
)
from stacks.model.endpoints import stack_outputs
from stacks.model.errors import StackConfigError
from stacks.model.layout import Layout
from stacks.model.settings import StackSettings
from stacks.model.spec import ContainerSpec, NetworkSpec, Topology, VolumeSpec
from stacks.model.swarm import swarm_services

__all__ = ["IMAGES", "build_topology"]

# Directories under images/ (one Dockerfile each); every image is ha-stack/<name>:<tag>.
IMAGES = (
    "redis",
    "postgres",
    "prometheus",
    "alertmanager",
    "alert-receiver",
    "redis-exporter",
    "postgres-exporter",
    "app",
)


def _check_ports(containers: list[ContainerSpec]) -> None:
    used = Counter((p.host_address, p.host_port) for c in containers for p in c.ports)
    clashes = sorted(port for (_, port), count in used.items() if count > 1)
    if clashes:
        raise StackConfigError(
            "ha-stack:appHostPort",
            f"host port {clashes[0]} is published twice (app replicas take appHostPort + i)",
            "8000",
        )


def build_topology(settings: StackSettings) -> Topology:
    """Every container of the stack in start order; StackConfigError on inconsistent settings."""
    layout = Layout(settings)
    redis = redis_containers(layout)
    containers = [
        *redis,
        postgres_container(layout),
        postgres_backup_container(layout),
        *monitoring_containers(layout),
        *app_containers(layout, tuple(c.service for c in redis)),
    ]
    _check_ports(containers)
    # Once each: PostgreSQL and its backup container share their volumes.
    names = dict.fromkeys(mount.volume for container in containers for mount in container.volumes)
    volumes = tuple(VolumeSpec(name, protect=settings.protect_data) for name in names)
    endpoints = stack_outputs(layout, containers)
    if layout.swarm:  # the same containers as Swarm services (placement, Docker secrets)
        containers = swarm_services(layout, containers)
    return Topology(
        stack=settings.stack,
        network=NetworkSpec(settings.prefix, str(settings.subnet), layout.plan.gateway),
        volumes=volumes,
        containers=tuple(containers),
        images={name: settings.images.name(name) for name in IMAGES},
        base_image=settings.images.base_image,
        build_images=settings.images.build,
        endpoints=endpoints,
        platform=settings.platform,
    )
