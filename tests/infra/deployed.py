"""A deployed stack as the testinfra suites and fault drills see it.

What to expect comes from the stack model (``stacks.model.stack_topology``: the same ContainerSpecs
both deployers consume); what is there comes from Docker (``docker inspect``) and from inside the
containers through testinfra's docker backend (``docker exec``). Traffic from the host goes only
to ports the stack publishes on 127.0.0.1.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import testinfra
import yaml

from stacks.compose.envfile import read_env_file
from stacks.model import ContainerSpec, StackSettings, Topology, stack_settings, stack_topology

__all__ = [
    "REPO_ROOT",
    "DeployedStack",
    "HttpReply",
    "NotDeployedError",
    "wait_for",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

# Runs inside an app container (its python3): GET argv[1], with the container's own METRICS_TOKEN
# as bearer token when argv[2] is "token", and print the status line then the body.
_FETCH = """\
import os, sys, urllib.error, urllib.request
headers = {}
if sys.argv[2] == "token":
    headers["Authorization"] = "Bearer " + os.environ["METRICS_TOKEN"]
request = urllib.request.Request(sys.argv[1], headers=headers)
try:
    with urllib.request.urlopen(request, timeout=10) as r:
        status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
print(status)
print(body.decode())
"""


class NotDeployedError(AssertionError):
    """The stack (or one of its containers) is not running: deploy it with scripts/up <stack>."""


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.5) -> T:
    """Call ``probe`` until it returns something other than None; AssertionError naming ``what``
    after ``timeout`` seconds. Bounds here are generous: they catch hangs, not slowness."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


class DeployedStack:
    """One deployed stack (``dev``, ``prod``): its model, secrets and containers."""

    def __init__(self, name: str, overrides: Mapping[str, object] | None = None) -> None:
        self.name = name
        self.settings: StackSettings = stack_settings(name, dict(overrides or {}))
        self.topology: Topology = stack_topology(name, dict(overrides or {}))

    @cached_property
    def deployed_with(self) -> str:
        """``compose`` or ``pulumi``: compose labels the containers it made with its project."""
        labels = self.inspect(self.topology.containers[0].service)["Config"]["Labels"] or {}
        return "compose" if "com.docker.compose.project" in labels else "pulumi"

    @cached_property
    def secrets(self) -> dict[str, str]:
        """The deployment's secrets: the stack's ``secrets`` output for a Pulumi deployment
        (scripts/pulumi-secrets), configs/<stack>/.env (scripts/gen-env) for a compose one.
        NotDeployedError when the stack is not deployed; AssertionError when the output cannot
        be read; FileNotFoundError when compose's .env is missing."""
        if self.deployed_with == "pulumi":
            result = subprocess.run(
                [str(REPO_ROOT / "scripts" / "pulumi-secrets"), self.name],
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
            assert result.returncode == 0, f"scripts/pulumi-secrets {self.name}: {result.stderr}"
            values: dict[str, str] = json.loads(result.stdout)
            return values
        path = REPO_ROOT / "configs" / self.name / ".env"
        if not path.exists():
            raise FileNotFoundError(f"{path}: the stack is not deployed (scripts/up {self.name})")
        return read_env_file(path)

    # -- containers -------------------------------------------------------------------------
    def spec(self, service: str) -> ContainerSpec:
        return self.topology.container(service)

    def services(self, group: str, *, command: str | None = None) -> list[str]:
        """Services of a group (``redis``, ``app``, ...), optionally only those whose command has
        ``command`` (``web``, ``worker``, ``sentinel``, ``server``)."""
        return [
            spec.service
            for spec in self.topology.containers
            if spec.group == group and (command is None or command in spec.command)
        ]

    def inspect(self, service: str) -> dict[str, Any]:
        """`docker inspect` of the service's container; NotDeployedError when it does not exist."""
        name = self.spec(service).name
        result = subprocess.run(
            ["docker", "inspect", name], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise NotDeployedError(f"{name} does not exist: deploy with scripts/up {self.name}")
        info: dict[str, Any] = json.loads(result.stdout)[0]
        return info

    def assert_deployed(self) -> None:
        """NotDeployedError unless every container of the model is running (a one-shot job,
        restart ``on-failure`` like ``redis-cluster-init``, may instead have exited 0)."""
        stopped = [spec.name for spec in self.topology.containers if not self._up(spec)]
        if stopped:
            raise NotDeployedError(f"not running: {', '.join(stopped)} (scripts/up {self.name})")

    def _up(self, spec: ContainerSpec) -> bool:
        state = self.inspect(spec.service)["State"]
        done = spec.restart == "on-failure" and state["Status"] == "exited"
        return bool(state["Running"]) or (done and state["ExitCode"] == 0)

    def host(self, service: str) -> Any:
        """A testinfra Host inside the service's container (commands run as its user)."""
        return testinfra.get_host(f"docker://{self.spec(service).name}")

    def sh(self, service: str, command: str, *args: str) -> str:
        """stdout of ``command`` (testinfra-quoted ``args``) inside the container; AssertionError
        with stderr when it exits non-zero."""
        result = self.host(service).run(command, *args)
        assert result.rc == 0, f"{service}: {command} {args} -> rc {result.rc}: {result.stderr}"
        return str(result.stdout)

    def published_port(self, service: str, container_port: int) -> int:
        """The host port the service publishes ``container_port`` on; AssertionError if none."""
        bindings = self.inspect(service)["NetworkSettings"]["Ports"].get(f"{container_port}/tcp")
        assert bindings, f"{service} publishes no port for {container_port}"
        return int(bindings[0]["HostPort"])

    # -- Redis ------------------------------------------------------------------------------
    def redis_cli(self, service: str, *args: str) -> str:
        """redis-cli inside the service's container (REDISCLI_AUTH comes from its environment)."""
        port = "26379" if "sentinel" in self.spec(service).command else "6379"
        command = "redis-cli -p %s --no-auth-warning " + " ".join(["%s"] * len(args))
        return self.sh(service, command, port, *args).strip()

    def master_address(self, sentinel: str | None = None) -> str:
        """``ip:port`` of the master as a Sentinel reports it."""
        sentinel = sentinel or self.services("redis", command="sentinel")[0]
        master = self.settings.redis.master_name
        ip, port = self.redis_cli(sentinel, "SENTINEL", "get-master-addr-by-name", master).split()
        return f"{ip}:{port}"

    def redis_service_at(self, address: str) -> str:
        """The data-node service whose fixed IP is in ``address``."""
        ip = address.split(":")[0]
        for service in self.services("redis", command="server"):
            if self.spec(service).ip == ip:
                return service
        raise AssertionError(f"no Redis data node has IP {ip}")

    # -- Prometheus -------------------------------------------------------------------------
    def promql(self, query: str) -> list[dict[str, Any]]:
        """Instant query result vector, asked with promtool inside the Prometheus container."""
        out = self.sh(
            "prometheus", "promtool query instant -o json http://127.0.0.1:9090 %s", query
        )
        result: list[dict[str, Any]] = json.loads(out) if out.strip() else []
        return result

    def prometheus_file(self, name: str) -> Any:
        """A rendered Prometheus file of the model (``prometheus.yml``, ``alerts.yml``), parsed."""
        spec = self.spec("prometheus")
        return yaml.safe_load(spec.files[f"/etc/prometheus/{name}"].content)

    # -- the app ----------------------------------------------------------------------------
    def app_get(self, service: str, path: str, *, token: bool = False) -> HttpReply:
        """GET ``path`` from inside an app container (its own 127.0.0.1:$PORT)."""
        port = self.spec(service).env.get("PORT", "8000")
        out = self.sh(
            service,
            "python3 -c %s %s %s",
            _FETCH,
            f"http://127.0.0.1:{port}{path}",
            "token" if token else "none",
        )
        status, _, body = out.partition("\n")
        return HttpReply(int(status), body)

    def docker(self, *args: str, timeout: float = 120) -> str:
        """Run a docker CLI command against the stack's containers; its stdout."""
        result = subprocess.run(
            ["docker", *args], capture_output=True, text=True, check=False, timeout=timeout
        )
        assert result.returncode == 0, f"docker {shlex.join(args)}: {result.stderr}"
        return result.stdout
