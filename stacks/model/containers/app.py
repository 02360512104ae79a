"""The app's containers: web replicas (``app-entrypoint web``) then workers (``... worker``), all
with the environment of the stack-to-app contract (stacks.model.app_contract)."""

from stacks.model.app_contract import app_environment
from stacks.model.containers.common import published
from stacks.model.endpoints import APP_PORT
from stacks.model.layout import Layout, Placement
from stacks.model.spec import ContainerSpec, Healthcheck, PortSpec

__all__ = ["app_containers"]

_WEB_HEALTHCHECK = Healthcheck(
    argv=(
        "python3",
        "-c",
        "import urllib.request; "
        f"urllib.request.urlopen('http://127.0.0.1:{APP_PORT}/api/health', timeout=2)",
    ),
    start_period_s=15,
)


def app_containers(layout: Layout, redis_services: tuple[str, ...]) -> list[ContainerSpec]:
    """Web replicas, each published on ``appHostPort + i``, then workers (no health check)."""
    settings = layout.settings
    environment = app_environment(layout)

    def process(
        place: Placement,
        role: str,
        ports: tuple[PortSpec, ...] = (),
        healthcheck: Healthcheck | None = None,
    ) -> ContainerSpec:
        return ContainerSpec(
            service=place.service,
            name=layout.container_name(place.service),
            group="app",
            image=settings.images.app.image(place.service),
            command=("app-entrypoint", role),
            ip=place.ip,
            user="app",
            env=environment.env,
            secret_env=environment.secret_env,
            ports=ports,
            healthcheck=healthcheck,
            depends_on=("postgres", *redis_services),
        )

    web = [
        process(
            place,
            "web",
            published(layout, "app", settings.publish.app_port + i, APP_PORT),
            _WEB_HEALTHCHECK,
        )
        for i, place in enumerate(layout.web_replicas())
    ]
    # Workers serve /metrics on the app port too, but have no health endpoint: no health check.
    return web + [process(place, "worker") for place in layout.workers()]
