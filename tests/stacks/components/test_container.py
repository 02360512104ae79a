"""What each declared container carries: env wiring, uploaded configs, health checks, secrecy."""

import asyncio
from collections.abc import Awaitable, Callable

import pulumi

from stacks.components.container import container_env
from stacks.compose.files import rendered_files
from stacks.model import SECRET_CONFIG_KEYS, stack_topology
from tests.stacks.mocked_program import Declared

Program = Callable[..., Declared]

APP_COMMON = {
    "PORT": "8000",
    "DATABASE_CONNECTION_LIMIT": "5",
    "DATABASE_TIMEOUT": "10000",
    "DATABASE_RETRY_ATTEMPTS": "10",
    "REDIS_WAIT_TIMEOUT": "1000",
    "REDIS_PASSWORD": "redis-pw-1",
    "METRICS_TOKEN": "metrics-token-4-0123",
    # Pool size and wait are DATABASE_CONNECTION_LIMIT / DATABASE_TIMEOUT, not URL parameters.
    "DATABASE_URL": "postgresql://app:postgres-pw-3@172.28.10.40:5432/app",
}


def _env(declared: Declared, name: str) -> dict[str, str]:
    entries = declared.containers[name].plain("envs")
    return dict(entry.split("=", 1) for entry in entries)


def test_app_env_in_sentinel_mode_is_exactly_the_contract(program: Program) -> None:
    declared = program("dev")
    expected = {
        **APP_COMMON,
        "APP_ENV": "development",
        "REDIS_MODE": "sentinel",
        "REDIS_SENTINEL_HOSTS": "172.28.10.20:26379,172.28.10.21:26379,172.28.10.22:26379",
        "REDIS_MASTER_NAME": "mymaster",
        "REDIS_SENTINEL_PASSWORD": "sentinel-pw-2",
        "REDIS_WAIT_REPLICAS": "1",
    }
    for name in ("ha-dev-app-0", "ha-dev-app-1", "ha-dev-worker-0"):
        assert _env(declared, name) == expected, name
    assert declared.containers["ha-dev-app-1"].inputs["command"] == ["app-entrypoint", "web"]
    assert declared.containers["ha-dev-worker-0"].inputs["command"] == ["app-entrypoint", "worker"]


def test_app_env_in_standalone_and_cluster_modes(program: Program) -> None:
    standalone = _env(program("dev", "standalone"), "ha-dev-app-0")
    assert standalone == {
        **APP_COMMON,
        "APP_ENV": "development",
        "REDIS_MODE": "standalone",
        "REDIS_URL": "redis://172.28.10.10:6379/0",
        "REDIS_WAIT_REPLICAS": "0",  # no replica to wait for
    }
    cluster = _env(program("dev", "cluster"), "ha-dev-worker-0")
    assert cluster == {
        **APP_COMMON,
        "APP_ENV": "development",
        "REDIS_MODE": "cluster",
        "REDIS_CLUSTER_NODES": ",".join(f"172.28.10.{30 + i}:6379" for i in range(6)),
        "REDIS_WAIT_REPLICAS": "1",
        # 2 x clusterNodeTimeoutMs (5000) + 2 s: long enough to ride out a master's failover.
        "REDIS_RETRY_DEADLINE": "12000",
    }


def test_prod_app_runs_in_production_with_bigger_pools(program: Program) -> None:
    env = _env(program("prod"), "ha-prod-app-2")
    assert env["APP_ENV"] == "production"
    assert env["DATABASE_CONNECTION_LIMIT"] == "10"
    assert env["REDIS_SENTINEL_HOSTS"] == "172.28.20.20:26379,172.28.20.21:26379,172.28.20.22:26379"
    # (3 web + 2 workers) x 10 + 10 headroom
    assert program("prod").containers["ha-prod-postgres"].inputs["command"][:3] == [
        "postgres-entrypoint", "-c", "max_connections=60"
    ]  # fmt: skip


def test_service_env_wiring(program: Program) -> None:
    declared = program("dev")
    assert _env(declared, "ha-dev-redis-1") == {
        "REDIS_PASSWORD": "redis-pw-1",
        "REDISCLI_AUTH": "redis-pw-1",
        # The entrypoint asks the Sentinels for the current master before it starts.
        "REDIS_SENTINEL_HOSTS": "172.28.10.20:26379,172.28.10.21:26379,172.28.10.22:26379",
        "REDIS_MASTER_NAME": "mymaster",
        "REDIS_SENTINEL_PASSWORD": "sentinel-pw-2",
    }
    assert _env(declared, "ha-dev-sentinel-0") == {
        "REDIS_PASSWORD": "redis-pw-1",
        "REDIS_SENTINEL_PASSWORD": "sentinel-pw-2",
        "REDISCLI_AUTH": "sentinel-pw-2",
        "REDIS_MASTER_NAME": "mymaster",
    }
    assert _env(declared, "ha-dev-postgres") == {
        "POSTGRES_USER": "app",
        "POSTGRES_DB": "app",
        "POSTGRES_PASSWORD": "postgres-pw-3",
    }
    assert _env(declared, "ha-dev-prometheus") == {"METRICS_TOKEN": "metrics-token-4-0123"}
    assert _env(declared, "ha-dev-redis-exporter") == {
        "REDIS_ADDR": "redis://172.28.10.10:6379",
        "REDIS_PASSWORD": "redis-pw-1",
    }
    assert _env(declared, "ha-dev-sentinel-exporter") == {
        "REDIS_ADDR": "redis://172.28.10.20:26379",
        "REDIS_PASSWORD": "sentinel-pw-2",
    }
    assert _env(declared, "ha-dev-postgres-exporter") == {
        "DATA_SOURCE_NAME": "postgresql://app:postgres-pw-3@172.28.10.40:5432/app?sslmode=disable"
    }


def test_configured_secrets_stay_secret_end_to_end(program: Program) -> None:
    declared = program("dev")
    assert len(declared.env_secret) == len(declared.containers)
    assert all(declared.env_secret.values())
    for name, container in declared.containers.items():
        assert container.is_secret("envs"), name
        for upload in container.inputs.get("uploads", []):
            assert "pw-" not in upload["content"], name
            assert "token-4" not in upload["content"], name


def test_uploads_are_exactly_the_rendered_config_files(program: Program) -> None:
    declared = program("dev")
    files = rendered_files(stack_topology("dev"))
    uploads = {
        (name, upload["file"]): upload["content"]
        for name, container in declared.containers.items()
        for upload in container.inputs.get("uploads", [])
    }
    expected = {
        ("ha-dev-redis-0", "/etc/redis/redis.conf"): files["redis/redis-0.conf"],
        ("ha-dev-redis-1", "/etc/redis/redis.conf"): files["redis/redis-1.conf"],
        ("ha-dev-prometheus", "/etc/prometheus/prometheus.yml"): files["prometheus/prometheus.yml"],
        ("ha-dev-prometheus", "/etc/prometheus/alerts.yml"): files["prometheus/alerts.yml"],
        # The dashboard: the console template Prometheus serves, the Grafana files riding along.
        ("ha-dev-prometheus", "/etc/prometheus/consoles/ha-stack.html"): files[
            "prometheus/consoles/ha-stack.html"
        ],
        **{
            ("ha-dev-prometheus", f"/etc/prometheus/{source}"): files[source]
            for source in (
                "grafana/dashboards/ha-stack.json",
                "grafana/provisioning/datasources/ha-stack.yml",
                "grafana/provisioning/dashboards/ha-stack.yml",
            )
        },
        ("ha-dev-alertmanager", "/etc/alertmanager/alertmanager.yml"): files[
            "alertmanager/alertmanager.yml"
        ],
        # PostgreSQL (archive-push) and its backup container share one pgbackrest.conf.
        ("ha-dev-postgres", "/etc/pgbackrest/pgbackrest.conf"): files["pgbackrest/pgbackrest.conf"],
        ("ha-dev-postgres-backup", "/etc/pgbackrest/pgbackrest.conf"): files[
            "pgbackrest/pgbackrest.conf"
        ],
        **{
            (f"ha-dev-sentinel-{i}", "/etc/redis/sentinel.conf"): files[
                f"sentinel/sentinel-{i}.conf"
            ]
            for i in range(3)
        },
    }
    assert uploads == expected
    assert "replicaof 172.28.10.10 6379\n" in uploads[("ha-dev-redis-1", "/etc/redis/redis.conf")]
    assert "replicaof" not in uploads[("ha-dev-redis-0", "/etc/redis/redis.conf")]
    sentinel = uploads[("ha-dev-sentinel-1", "/etc/redis/sentinel.conf")]
    assert "sentinel monitor mymaster 172.28.10.10 6379 2\n" in sentinel
    assert "sentinel down-after-milliseconds mymaster 2000\n" in sentinel
    assert "sentinel resolve-hostnames no\n" in sentinel


def test_health_checks_and_restart_policies(program: Program) -> None:
    containers = program("dev").containers
    checks = {n: c.inputs.get("healthcheck", {}).get("tests") for n, c in containers.items()}
    assert checks["ha-dev-redis-0"] == [
        "CMD",
        "redis-cli",
        "-p",
        "6379",
        "--no-auth-warning",
        "ping",
    ]
    assert checks["ha-dev-sentinel-0"][:4] == ["CMD", "redis-cli", "-p", "26379"]
    assert checks["ha-dev-postgres"][:2] == ["CMD", "pg_isready"]
    assert checks["ha-dev-prometheus"][:3] == ["CMD", "promtool", "query"]
    assert "/api/health" in checks["ha-dev-app-0"][-1]
    assert checks["ha-dev-worker-0"] is None
    assert all(c.inputs["restart"] == "unless-stopped" for c in containers.values())
    assert all(c.inputs["mustRun"] is True for c in containers.values())
    users = {n: c.inputs["user"] for n, c in containers.items()}
    assert "root" not in users.values()
    assert users["ha-dev-postgres-exporter"] == "nobody"


def test_container_env_is_secret_even_when_the_values_given_are_not() -> None:
    # Under the program every value handed in is already secret, which hides a container_env
    # that forgets to mark its result: hand it plain Outputs here.
    spec = stack_topology("dev").container("app-0")
    found: list[bool] = []

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(
            self, args: pulumi.runtime.MockResourceArgs
        ) -> tuple[str, dict[str, object]]:
            return f"{args.name}-id", dict(args.inputs)

        def call(
            self, args: pulumi.runtime.MockCallArgs
        ) -> tuple[dict[str, object], list[tuple[str, str]] | None]:
            return {}, None

    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.set_mocks(Mocks(), project="ha-stack", stack="dev", preview=False)
    plain = {
        name: pulumi.Output.from_input(f"plain-{name}") for name in SECRET_CONFIG_KEYS.values()
    }

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> Awaitable[None]:
        env = container_env(spec, plain)

        async def check() -> None:
            found.append(await env.is_secret())
            assert "REDIS_PASSWORD=plain-REDIS_PASSWORD" in (await env.future() or [])

        return asyncio.ensure_future(check())

    run()
    assert found == [True]
