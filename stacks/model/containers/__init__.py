"""The ContainerSpecs of each group, built from the stack's Layout: Redis, PostgreSQL, monitoring
(Prometheus and exporters) and the app."""

from stacks.model.containers.app import app_containers
from stacks.model.containers.monitoring import monitoring_containers
from stacks.model.containers.postgres import postgres_backup_container, postgres_container
from stacks.model.containers.redis import redis_containers

__all__ = [
    "app_containers",
    "monitoring_containers",
    "postgres_backup_container",
    "postgres_container",
    "redis_containers",
]
