"""The rollout's hands: readiness through ``docker exec`` and one-service deploys with
docker-compose or Pulumi (stacks.compose.rollout holds the decisions).

Readiness is asked inside the container, as a load balancer next to it would: a web replica's
``/api/health/ready`` (503 while starting, draining, or while a critical dependency is down), a
worker's ``/metrics`` (served only once the worker has opened Redis and PostgreSQL and migrated;
with the bearer token when the container has one). So the check needs no published port.
"""

import json
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from stacks.compose.rollout import DeployError, wait_until

__all__ = [
    "READINESS_PATHS",
    "ComposeReplicas",
    "PulumiReplicas",
    "container_ready",
    "image_exists",
]

# The path each app role's readiness is read from (app_support.health.http.READINESS_PATH).
READINESS_PATHS: Final = {"web": "/api/health/ready", "worker": "/metrics"}

# Run with the container's python3: 0 for a 2xx answer, 1 otherwise (urlopen raises on 4xx/5xx).
_PROBE: Final = """\
import os, sys, urllib.request
path = sys.argv[1]
request = urllib.request.Request("http://127.0.0.1:" + os.environ.get("PORT", "8000") + path)
token = os.environ.get("METRICS_TOKEN")
if token and path == "/metrics":
    request.add_header("Authorization", "Bearer " + token)
urllib.request.urlopen(request, timeout=3).close()
"""
_DOCKER_TIMEOUT_S: Final = 30


def container_ready(container: str, path: str) -> bool:
    """Whether ``container`` is running and answers ``path`` with 2xx from inside."""
    try:
        done = subprocess.run(
            ["docker", "exec", container, "python3", "-c", _PROBE, path],
            capture_output=True,
            timeout=_DOCKER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def image_exists(reference: str) -> bool:
    """Whether the engine holds the image ``reference`` (a rollout deploys only local images);
    False too when there is no docker CLI or the engine does not answer in time."""
    try:
        done = subprocess.run(
            ["docker", "image", "inspect", reference],
            capture_output=True,
            timeout=_DOCKER_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _run(argv: list[str], what: str, timeout: float, cwd: Path | None = None) -> None:
    """Run a deploy command; DeployError with its last output lines when it fails."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd
        )
    except subprocess.TimeoutExpired:
        raise DeployError(f"{what}: no result after {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise DeployError(f"{what}: exit {done.returncode}: {tail}")


@dataclass
class _Readiness:
    """Waits for a service's container, by service name (``app-0``, ``worker-1``)."""

    containers: Mapping[str, str]  # service -> container name
    roles: Mapping[str, str]  # service -> web | worker
    interval_s: float = 1.0
    consecutive: int = 2
    probe: Callable[[str, str], bool] = container_ready

    def wait_ready(self, service: str, timeout: float) -> bool:
        container, path = self.containers[service], READINESS_PATHS[self.roles[service]]
        return wait_until(
            lambda: self.probe(container, path),
            timeout=timeout,
            interval=self.interval_s,
            consecutive=self.consecutive,
        )


@dataclass
class ComposeReplicas(_Readiness):
    """``docker-compose up -d --no-deps <service>`` over the rendered file and the override
    (``override()`` writes it from the record and says whether anything is pinned)."""

    stack: str = ""
    compose_file: Path = Path()
    override_file: Path = Path()
    write_override: Callable[[], bool] = lambda: False
    deploy_timeout_s: float = 300

    def deploy(self, service: str, tag: str) -> None:
        files = ["--file", str(self.compose_file)]
        if self.write_override():
            files += ["--file", str(self.override_file)]
        argv = ["docker-compose", "--project-name", f"ha-{self.stack}", *files]
        _run(
            [*argv, "up", "--detach", "--no-deps", service],
            f"docker-compose up {service} ({tag})",
            self.deploy_timeout_s,
        )


@dataclass
class PulumiReplicas(_Readiness):
    """``pulumi up --target <the service's container>`` with ``ha-stack:appImageTags`` set to
    what the record pins (``pinned()``), through scripts/pulumi-env's ``stack_pulumi``."""

    stack: str = ""
    root: Path = Path()
    pinned: Callable[[], Mapping[str, str]] = dict
    deploy_timeout_s: float = 900

    def urn(self, service: str) -> str:
        container = self.containers[service]
        return (
            f"urn:pulumi:{self.stack}::ha-stack::ha-stack:index:AppService"
            f"$docker:index/container:Container::{container}"
        )

    def deploy(self, service: str, tag: str) -> None:
        script = (
            'source scripts/pulumi-env && pulumi_env_setup && stack_pulumi "$1" up --yes '
            '--skip-preview --suppress-progress --target "$2" --target-dependents '
            '--config "ha-stack:appImageTags=$3"'
        )
        tags = json.dumps(dict(self.pinned()), sort_keys=True)
        _run(
            ["bash", "-c", script, "pulumi", self.stack, self.urn(service), tags],
            f"pulumi up --target {service} ({tag})",
            self.deploy_timeout_s,
            cwd=self.root,
        )
