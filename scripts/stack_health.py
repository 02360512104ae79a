"""Wait until a deployed stack is healthy, then print its endpoints and the app's health summary.

scripts/up runs this after either deploy path (Pulumi or docker-compose): both name every container
``ha-<stack>-<service>``. Docker is asked through its CLI; the app is reached only through the ports
the stack publishes on the host, always via 127.0.0.1.

Usage: python scripts/stack_health.py <stack> [--timeout SECONDS] [--env-file PATH]
Exit status 1 when a container is not running/healthy within the timeout or keeps restarting.
"""

import argparse
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.compose.envfile import read_env_file

__all__ = [
    "Container",
    "app_endpoints",
    "health_summary",
    "main",
    "stack_containers",
    "wait_until_healthy",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
# More restarts than this while waiting means a crash loop: report it instead of waiting it out.
MAX_RESTARTS = 3


@dataclass(frozen=True)
class Container:
    """What `docker inspect` says about one container of the stack."""

    name: str
    status: str  # running | exited | restarting | ...
    health: str | None  # healthy | starting | unhealthy, None without a healthcheck
    exit_code: int
    restarts: int
    restart_policy: str
    ports: Mapping[str, Sequence[Mapping[str, str]]]

    @property
    def service(self) -> str:
        return self.name.split("-", 2)[-1]

    @property
    def ready(self) -> bool:
        """Running and healthy (when it has a healthcheck), or a one-shot job that exited 0."""
        if self.status == "exited" and self.restart_policy in ("", "no"):
            return self.exit_code == 0
        return self.status == "running" and self.health in (None, "healthy")

    @property
    def state(self) -> str:
        if self.status == "running" and self.health:
            return self.health
        if self.status == "exited":
            return f"exited({self.exit_code})"
        return self.status


def _container(info: Mapping[str, Any]) -> Container:
    state = info["State"]
    health = state.get("Health")
    return Container(
        name=str(info["Name"]).lstrip("/"),
        status=str(state["Status"]),
        health=str(health["Status"]) if health else None,
        exit_code=int(state["ExitCode"]),
        restarts=int(info.get("RestartCount", 0)),
        restart_policy=str(info["HostConfig"]["RestartPolicy"]["Name"]),
        ports=info["NetworkSettings"].get("Ports") or {},
    )


def stack_containers(stack: str) -> list[Container]:
    """Every container named ``ha-<stack>-*``; CalledProcessError when Docker does not answer."""
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name=^ha-{stack}-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    if not ids:
        return []
    inspected = subprocess.run(
        ["docker", "inspect", *ids], check=True, capture_output=True, text=True
    ).stdout
    return sorted((_container(info) for info in json.loads(inspected)), key=lambda c: c.name)


def _show_logs(container: Container) -> None:
    logs = subprocess.run(
        ["docker", "logs", "--tail", "20", container.name],
        capture_output=True,
        text=True,
        check=False,
    )
    print(f"--- last log lines of {container.name} ({container.state}):", file=sys.stderr)
    print((logs.stdout + logs.stderr).rstrip(), file=sys.stderr)


def wait_until_healthy(stack: str, timeout: float) -> list[Container]:
    """Poll until every container of the stack is ready; RuntimeError (after printing the logs of
    the containers that are not) on a timeout, a crash loop or when the stack has no containers."""
    deadline = time.monotonic() + timeout
    while True:
        containers = stack_containers(stack)
        if not containers:
            raise RuntimeError(f"no container named ha-{stack}-* exists: is the stack deployed?")
        waiting = [c for c in containers if not c.ready]
        crashing = [c for c in waiting if c.restarts > MAX_RESTARTS]
        if not waiting:
            return containers
        if crashing or time.monotonic() > deadline:
            for container in waiting:
                _show_logs(container)
            reason = "keep restarting" if crashing else f"are not ready after {timeout:.0f} s"
            names = ", ".join(f"{c.name} ({c.state})" for c in crashing or waiting)
            raise RuntimeError(f"{names} {reason}")
        time.sleep(2)


def app_endpoints(containers: Sequence[Container]) -> dict[str, str]:
    """Published HTTP/TCP endpoints by container name, addressed through 127.0.0.1."""
    endpoints = {}
    for container in containers:
        for bindings in container.ports.values():
            for binding in bindings or ():
                scheme = "postgresql" if container.service == "postgres" else "http"
                endpoints[container.name] = f"{scheme}://127.0.0.1:{binding['HostPort']}"
    return endpoints


def health_summary(base_url: str, token: str | None, timeout: float = 5.0) -> str:
    """One line: the app's overall status and each service's; the error text when unreachable."""
    # base_url is always http://127.0.0.1:<published port> (app_endpoints).
    request = urllib.request.Request(f"{base_url}/api/health/detailed")  # noqa: S310
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            report = json.load(response)
    except urllib.error.HTTPError as error:
        # Degraded/unhealthy reports come with 503 and still carry the JSON body.
        report = json.load(error)
    except (OSError, ValueError) as error:
        return f"unreachable ({error})"
    parts = [f"{name}={status}" for name, status in _block_statuses(report.get("services"))]
    # Host load (cpu, memory, disk) only when it is what degrades the report.
    parts += [
        f"{name}={status}"
        for name, status in _block_statuses(report.get("system"))
        if status != "healthy"
    ]
    return f"{report.get('status', '?')}" + (f" ({', '.join(parts)})" if parts else "")


def _block_statuses(blocks: object, prefix: str = "") -> list[tuple[str, str]]:
    """(name, status) of each block of a health report section; nested: ``queues.import``."""
    if not isinstance(blocks, dict):
        return []
    statuses = []
    for name, block in blocks.items():
        if isinstance(block, dict) and "status" in block:
            statuses.append((f"{prefix}{name}", str(block["status"])))
        elif isinstance(block, dict):
            statuses += _block_statuses(block, f"{prefix}{name}.")
    return statuses


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stack_health.py", description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="dev, prod, ...")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds (default 300)")
    parser.add_argument("--env-file", type=Path, help="default: configs/<stack>/.env")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        containers = wait_until_healthy(args.stack, args.timeout)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"stack {args.stack}: not healthy: {error}", file=sys.stderr)
        return 1
    waited = time.monotonic() - started
    print(f"stack {args.stack}: {len(containers)} containers ready after {waited:.0f} s")
    for container in containers:
        print(f"  {container.name:32} {container.state}")
    env = read_env_file(args.env_file or REPO_ROOT / "configs" / args.stack / ".env")
    print("endpoints (published on this host):")
    for name, url in app_endpoints(containers).items():
        line = f"  {name:32} {url}"
        if url.startswith("http") and "-app-" in name:
            line += f"  health: {health_summary(url, env.get('METRICS_TOKEN'))}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
