"""The stack's components: Redis HA group, PostgreSQL, monitoring (Prometheus + exporters), app."""

import pulumi

from stacks.components.group import ContainerGroup, ContainerGroupArgs

__all__ = ["AppService", "Monitoring", "Postgres", "RedisGroup"]


class RedisGroup(ContainerGroup):
    """Redis data nodes plus Sentinels (sentinel mode) or the cluster initialiser (cluster mode)."""

    def __init__(
        self, name: str, args: ContainerGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ha-stack:index:RedisGroup", name, args, opts)


class Postgres(ContainerGroup):
    """PostgreSQL with its data volume; max_connections sized by the model."""

    def __init__(
        self, name: str, args: ContainerGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ha-stack:index:Postgres", name, args, opts)


class Monitoring(ContainerGroup):
    """Prometheus with its rendered config and alert rules, and the Redis/PostgreSQL exporters."""

    def __init__(
        self, name: str, args: ContainerGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ha-stack:index:Monitoring", name, args, opts)


class AppService(ContainerGroup):
    """The app's web replicas and workers (one image, ``app-entrypoint web|worker``)."""

    def __init__(
        self, name: str, args: ContainerGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ha-stack:index:AppService", name, args, opts)
