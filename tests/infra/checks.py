"""The checks every deployed stack passes; test_dev.py / test_prod.py run them per stack.

A subclass sets ``STACK``; the ``deployed`` and ``container`` fixtures come from conftest.py.
"""

import re
from typing import Any, ClassVar

from stacks.model import ContainerSpec
from tests.infra.deployed import DeployedStack, wait_for

__all__ = ["StackChecks", "service_blocks"]


def _seconds(duration: str) -> float:
    """A Prometheus duration with one unit (``5s``, ``1m``) in seconds."""
    match = re.fullmatch(r"(\d+)(ms|s|m|h)", duration)
    assert match, f"unexpected duration {duration!r}"
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    return int(match.group(1)) * scale


def service_blocks(report: dict[str, Any]) -> dict[str, str]:
    """Status of every dependency block of a detailed health report: ``database``, ``redis``,
    ``queues.import``, ... (the ``system`` block is host load, not the app's dependencies)."""
    statuses = {}
    for name, block in report["services"].items():
        if "status" in block:
            statuses[name] = block["status"]
        else:
            statuses.update({f"{name}.{sub}": inner["status"] for sub, inner in block.items()})
    return statuses


class StackChecks:
    STACK: ClassVar[str]

    # -- every container ----------------------------------------------------------------------
    def test_container_runs_its_image_command_and_address(
        self, deployed: DeployedStack, container: ContainerSpec
    ) -> None:
        info = deployed.inspect(container.service)
        assert info["State"]["Running"], info["State"]
        # The image the reference names now: compose runs it by reference, Pulumi by its id.
        image_id = deployed.docker("image", "inspect", "-f", "{{.Id}}", container.image).strip()
        assert info["Config"]["Image"] in (container.image, image_id)
        assert info["Image"] == image_id
        assert tuple(info["Config"]["Cmd"]) == container.command
        network = info["NetworkSettings"]["Networks"][deployed.topology.network.name]
        assert network["IPAddress"] == container.ip
        if container.healthcheck is not None:
            assert info["State"]["Health"]["Status"] == "healthy"

    def test_container_runs_as_its_non_root_user(
        self, deployed: DeployedStack, container: ContainerSpec
    ) -> None:
        status = deployed.host(container.service).file("/proc/1/status").content_string
        uids = re.search(r"^Uid:\s+(.*)$", status, re.MULTILINE)
        assert uids, status
        real, effective, saved, filesystem = (int(uid) for uid in uids.group(1).split())
        assert 0 not in (real, effective, saved, filesystem)
        user = deployed.sh(container.service, "getent passwd %s", str(effective)).split(":")[0]
        assert user == container.user

    def test_container_publishes_only_its_model_ports(
        self, deployed: DeployedStack, container: ContainerSpec
    ) -> None:
        ports = deployed.inspect(container.service)["NetworkSettings"]["Ports"] or {}
        published = {
            (binding["HostIp"], int(binding["HostPort"]), int(port.split("/")[0]))
            for port, bindings in ports.items()
            for binding in bindings or ()
        }
        expected = {(p.host_address, p.host_port, p.container_port) for p in container.ports}
        assert published == expected

    # -- Redis --------------------------------------------------------------------------------
    def test_redis_master_has_its_replicas_online(self, deployed: DeployedStack) -> None:
        master = deployed.redis_service_at(deployed.master_address())
        info = deployed.redis_cli(master, "INFO", "replication")
        assert "role:master" in info
        replicas = re.findall(r"^slave\d+:ip=([\d.]+),port=\d+,state=(\w+)", info, re.MULTILINE)
        assert len(replicas) == deployed.settings.redis.replicas, info
        assert all(state == "online" for _, state in replicas), info

    def test_sentinels_agree_on_the_master_and_have_quorum(self, deployed: DeployedStack) -> None:
        sentinels = deployed.services("redis", command="sentinel")
        assert len(sentinels) == deployed.settings.redis.sentinels
        masters = {sentinel: deployed.master_address(sentinel) for sentinel in sentinels}
        assert len(set(masters.values())) == 1, masters
        for sentinel in sentinels:
            reply = deployed.redis_cli(
                sentinel, "SENTINEL", "CKQUORUM", deployed.settings.redis.master_name
            )
            assert reply.startswith("OK"), f"{sentinel}: {reply}"

    def test_redis_nodes_refuse_writes_no_replica_follows(self, deployed: DeployedStack) -> None:
        redis = deployed.settings.redis
        expected = {
            "min-replicas-to-write": str(redis.min_replicas_to_write),
            "min-replicas-max-lag": str(redis.min_replicas_max_lag_s),
        }
        for service in deployed.services("redis", command="server"):
            reply = deployed.redis_cli(service, "CONFIG", "GET", "min-replicas-*").splitlines()
            assert dict(zip(reply[::2], reply[1::2], strict=True)) == expected, service
        # The master has the replicas it needs, so it takes writes.
        master = deployed.redis_service_at(deployed.master_address())
        info = deployed.redis_cli(master, "INFO", "replication")
        good = re.search(r"^min_slaves_good_slaves:(\d+)", info, re.MULTILINE)
        assert good, info
        assert int(good.group(1)) >= redis.min_replicas_to_write, info
        # And the app waits for a replica to confirm its durable writes.
        for service in deployed.services("app"):
            env = dict(e.split("=", 1) for e in deployed.inspect(service)["Config"]["Env"])
            assert env["REDIS_WAIT_REPLICAS"] == str(redis.app_wait_replicas), service

    # -- PostgreSQL ---------------------------------------------------------------------------
    def test_postgres_accepts_password_logins_and_covers_every_pool(
        self, deployed: DeployedStack
    ) -> None:
        # Over TCP with the password, as the app connects; the secret stays in the container.
        max_connections = deployed.sh(
            "postgres",
            'PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U "$POSTGRES_USER" '
            '-d "$POSTGRES_DB" -Atc %s',
            "SHOW max_connections",
        )
        app = deployed.settings.app
        assert int(max_connections) >= (app.web_replicas + app.workers) * app.pool_size

    # -- Prometheus ---------------------------------------------------------------------------
    def test_prometheus_scrapes_every_target(self, deployed: DeployedStack) -> None:
        config = deployed.prometheus_file("prometheus.yml")
        expected = sum(
            len(group["targets"])
            for job in config["scrape_configs"]
            for group in job["static_configs"]
        )
        interval = _seconds(config["global"]["scrape_interval"])

        def all_up() -> list[dict[str, Any]] | None:
            series = deployed.promql("up")
            healthy = len(series) == expected and all(s["value"][1] == "1" for s in series)
            return series if healthy else None

        wait_for(f"{expected} targets up", all_up, timeout=4 * interval + 30, interval=2)

    def test_prometheus_loaded_every_rule(self, deployed: DeployedStack) -> None:
        alerts = deployed.prometheus_file("alerts.yml")
        rules = sum(len(group["rules"]) for group in alerts["groups"])
        loaded = deployed.promql("sum(prometheus_rule_group_rules)")
        assert loaded
        assert loaded[0]["value"][1] == str(rules)
        reload_ok = deployed.promql("prometheus_config_last_reload_successful")
        assert reload_ok
        assert reload_ok[0]["value"][1] == "1"
        failures = deployed.promql("sum(prometheus_rule_evaluation_failures_total)")
        assert failures[0]["value"][1] == "0"

    # -- the app ------------------------------------------------------------------------------
    def test_every_app_replica_reports_its_dependencies_healthy(
        self, deployed: DeployedStack
    ) -> None:
        for service in deployed.services("app", command="web"):
            reply = deployed.app_get(service, "/api/health/detailed", token=True)
            report = reply.json()
            # A loaded CI host may mark the system block (cpu) degraded: that is not the stack.
            assert service_blocks(report) == dict.fromkeys(service_blocks(report), "healthy"), (
                f"{service}: {reply.body}"
            )
            assert report["status"] in ("healthy", "degraded"), f"{service}: {reply.body}"
            redis = report["services"]["redis"]
            assert redis["mode"] == deployed.settings.redis.mode
            if deployed.settings.redis.mode == "sentinel":
                assert redis["master"] == deployed.master_address()
                assert redis["replicas"] == deployed.settings.redis.replicas
            assert report["services"]["database"]["pool"]["max"] == deployed.settings.app.pool_size
