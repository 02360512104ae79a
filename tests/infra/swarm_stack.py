"""The prod-swarm stack deployed on the test cluster, as the Swarm suite and host-loss drill see it.

What to expect comes from the rendered stack file (configs/prod-swarm/docker-stack.yml: services,
replicas, placement); what is there comes from each node's daemon (``docker ps`` by the service
label Swarm sets on task containers, ``docker exec`` into them). Commands that need a secret run
under the stack's launcher (``bash /etc/ha-stack/secret-env ...``), which exports it from
/run/secrets, since no secret is in a Swarm container's environment.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from tests.infra.deployed import REPO_ROOT, HttpReply
from tests.infra.swarm_cluster import SwarmCluster

__all__ = ["CONFIG_DIR", "LAUNCHER", "STACK_FILE", "STACK_NAME", "Service", "SwarmStack", "Task"]

STACK_NAME = "ha-prod-swarm"
CONFIG_DIR = REPO_ROOT / "configs" / "prod-swarm"
# SWARM_STACK_FILE: the file that was deployed, when not the committed one (a variant under test).
STACK_FILE = Path(os.environ.get("SWARM_STACK_FILE", CONFIG_DIR / "docker-stack.yml"))
LAUNCHER = ("bash", "/etc/ha-stack/secret-env")
_NODE_LABEL = re.compile(r"node\.labels\.ha-stack\.node\s*==\s*(\d+)")


@dataclass(frozen=True)
class Service:
    """One service of the stack file."""

    name: str  # as in the file: redis-0, sentinel-1, app, ...
    image: str
    command: tuple[str, ...]
    replicas: int
    pinned_node: int | None  # the ha-stack.node label its placement constraint names
    max_per_node: int | None
    host_ports: tuple[int, ...]  # published in host mode
    has_healthcheck: bool

    @property
    def repository(self) -> str:
        """The image's name without registry-less prefix and tag: redis, app, postgres, ..."""
        return self.image.rsplit(":", 1)[0].rsplit("/", 1)[-1]

    @property
    def role(self) -> str:
        """data (Redis data node), sentinel, web, worker, or the service's name for the rest
        (postgres, postgres-backup, prometheus, ...: one image may serve several)."""
        last = self.command[-1] if self.command else ""
        if self.repository == "redis" and last in ("server", "sentinel"):
            return "data" if last == "server" else "sentinel"
        if self.repository == "app" and last in ("web", "worker"):
            return last
        return self.name


@dataclass(frozen=True)
class Task:
    """A running task container: which service, on which node, which container."""

    service: str
    node: int
    container: str  # container id on that node's daemon
    health: str  # healthy | starting | unhealthy | "" (no health check)


def _service(name: str, raw: dict[str, Any]) -> Service:
    deploy = raw.get("deploy") or {}
    placement = deploy.get("placement") or {}
    pinned = None
    for constraint in placement.get("constraints") or []:
        match = _NODE_LABEL.fullmatch(constraint.strip())
        if match:
            pinned = int(match.group(1))
    ports = tuple(
        int(port["published"])
        for port in raw.get("ports") or []
        if isinstance(port, dict) and port.get("mode") == "host"
    )
    return Service(
        name=name,
        image=str(raw["image"]),
        command=tuple(str(part) for part in raw.get("command") or ()),
        replicas=int(deploy.get("replicas", 1)),
        pinned_node=pinned,
        max_per_node=placement.get("max_replicas_per_node"),
        host_ports=ports,
        has_healthcheck="healthcheck" in raw and not raw["healthcheck"].get("disable", False),
    )


class SwarmStack:
    """The deployed stack ``STACK_NAME`` from ``STACK_FILE`` on ``cluster``."""

    def __init__(
        self, cluster: SwarmCluster, name: str = STACK_NAME, stack_file: Path = STACK_FILE
    ) -> None:
        self.cluster = cluster
        self.name = name
        self.stack_file = stack_file

    @cached_property
    def services(self) -> dict[str, Service]:
        raw = yaml.safe_load(self.stack_file.read_text())
        return {name: _service(name, spec) for name, spec in raw["services"].items()}

    def config_file(self, service: str, target: str) -> Path:
        """The file the stack file deploys as Docker config ``target`` of ``service``."""
        raw = yaml.safe_load(self.stack_file.read_text())
        for config in raw["services"][service].get("configs") or []:
            if config.get("target") == target:
                path = Path(raw["configs"][config["source"]]["file"])
                return path if path.is_absolute() else self.stack_file.parent / path
        raise AssertionError(f"{service} gets no config at {target}")

    def secret(self, name: str, service: str) -> str:
        """The Docker secret ``name`` as a running task of ``service`` sees it (/run/secrets):
        the same for a stack-file and a Pulumi deployment, which make their secrets differently."""
        return self.exec(
            self.tasks(service)[0], "cat", f"/run/secrets/{name}", secrets=False
        ).strip()

    def of_role(self, role: str) -> list[Service]:
        """Services of a role (``data``, ``sentinel``, ``web``, ``postgres``, ...), by name."""
        return sorted((s for s in self.services.values() if s.role == role), key=lambda s: s.name)

    def one(self, role: str) -> Service:
        found = self.of_role(role)
        assert len(found) == 1, f"expected one {role} service, found {[s.name for s in found]}"
        return found[0]

    # -- tasks --------------------------------------------------------------------------------
    def tasks(self, service: str, nodes: Iterable[int] | None = None) -> list[Task]:
        """Running task containers of ``service`` on ``nodes`` (default: every node), asked of
        each node's own daemon: this works while the managers have no leader. A node whose
        daemon does not answer within 15 s counts as running none."""
        found = []
        label = f"com.docker.swarm.service.name={self.name}_{service}"
        for node in nodes or self.cluster.nodes:
            try:
                result = self.cluster.docker_run(
                    node, "ps", "-q", "--no-trunc", "--filter", f"label={label}",
                    "--filter", "status=running", timeout=15,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                continue
            if result.returncode != 0:
                continue
            for container in result.stdout.split():
                found.append(Task(service, node, container, self._health(node, container)))
        return found

    def _health(self, node: int, container: str) -> str:
        result = self.cluster.docker_run(
            node, "inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{end}}",
            container, timeout=15,
        )  # fmt: skip
        return result.stdout.strip() if result.returncode == 0 else "gone"

    def task(self, service: str, nodes: Iterable[int] | None = None) -> Task:
        """The one running task of a single-replica service; AssertionError when there is not
        exactly one."""
        found = self.tasks(service, nodes)
        assert len(found) == 1, f"{service}: {len(found)} running tasks: {found}"
        return found[0]

    def converged(self, nodes: Iterable[int] | None = None) -> list[str]:
        """What keeps the stack from being converged on ``nodes``: services whose running,
        healthy task count differs from their replicas (empty when converged). With ``nodes``
        given (the surviving ones), a service pinned elsewhere is left out and a replicated one
        is expected up to one task per node its ``max_replicas_per_node`` allows."""
        chosen = list(nodes or self.cluster.nodes)
        problems = []
        for service in self.services.values():
            if service.pinned_node is not None and service.pinned_node not in chosen:
                continue
            want = service.replicas
            if service.max_per_node is not None:
                want = min(want, service.max_per_node * len(chosen))
            tasks = self.tasks(service.name, chosen)
            healthy = [t for t in tasks if t.health in ("healthy", "")]
            if len(tasks) != want or len(healthy) != want:
                states = ",".join(f"n{t.node}:{t.health or 'running'}" for t in tasks)
                problems.append(f"{service.name} {len(healthy)}/{want} [{states}]")
        return problems

    # -- inside the containers ----------------------------------------------------------------
    def exec_run(
        self, task: Task, *argv: str, secrets: bool = True, timeout: float = 60,
        stdin: str | None = None,
    ) -> subprocess.CompletedProcess[str]:  # fmt: skip
        """``docker exec`` in the task's container (under the secret launcher unless
        ``secrets`` is False); the completed process, not checked."""
        command = [*(LAUNCHER if secrets else ()), *argv]
        flags = ["-i"] if stdin is not None else []
        return self.cluster.docker_run(
            task.node, "exec", *flags, task.container, *command, timeout=timeout, stdin=stdin
        )

    def exec(self, task: Task, *argv: str, secrets: bool = True, timeout: float = 60) -> str:
        """stdout of ``argv`` in the task's container; AssertionError with stderr on failure."""
        result = self.exec_run(task, *argv, secrets=secrets, timeout=timeout)
        assert result.returncode == 0, (
            f"{task.service} on node {task.node}: {' '.join(argv)} -> {result.returncode}: "
            f"{result.stderr}"
        )
        return result.stdout

    def redis_cli(self, task: Task, *args: str, host: str | None = None) -> str:
        """redis-cli in a Redis task container (its own server or ``host``), the task's own
        password from the launcher; stripped stdout."""
        port = "26379" if self.services[task.service].role == "sentinel" else "6379"
        target = ["-h", host] if host else []
        return self.exec(task, "redis-cli", *target, "-p", port, "--no-auth-warning", *args).strip()

    def replication(self, task: Task) -> dict[str, str]:
        """``INFO replication`` of a data node as a mapping."""
        out = self.redis_cli(task, "INFO", "replication")
        return dict(
            line.split(":", 1) for line in out.replace("\r", "").splitlines() if ":" in line
        )

    def master(self, sentinel: Task) -> str:
        """The master's name (hostname) as ``sentinel`` reports it."""
        reply = self.redis_cli(sentinel, "SENTINEL", "get-master-addr-by-name", "mymaster")
        return reply.split()[0]

    def promql(self, query: str) -> list[dict[str, Any]]:
        """An instant query's result vector, asked with promtool in the Prometheus task."""
        task = self.task(self.one("prometheus").name)
        out = self.exec(
            task, "promtool", "query", "instant", "-o", "json", "http://127.0.0.1:9090", query,
            secrets=False,
        )  # fmt: skip
        result: list[dict[str, Any]] = json.loads(out) if out.strip() else []
        return result

    def resolve(self, task: Task, name: str) -> list[str]:
        """The IPv4 addresses ``name`` resolves to inside the task's container (Docker's DNS)."""
        result = self.exec_run(task, "getent", "ahostsv4", name, secrets=False, timeout=30)
        return sorted({line.split()[0] for line in result.stdout.splitlines() if line.strip()})

    # -- from the host ------------------------------------------------------------------------
    def http_get(
        self, node: int, port: int, path: str, *, token: str | None = None, timeout: float = 10
    ) -> HttpReply:
        """GET ``path`` from the host on node ``node``'s published ``port`` (``token`` as bearer
        token); OSError when nothing answers."""
        url = f"http://{self.cluster.nodes[node].address}:{port}{path}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, headers=headers), timeout=timeout
            ) as reply:
                return HttpReply(reply.status, reply.read().decode())
        except urllib.error.HTTPError as error:
            return HttpReply(error.code, error.read().decode())
