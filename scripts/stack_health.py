"""Wait until a deployed stack is healthy, then print its endpoints and the app's health summary.

scripts/up runs this after either deploy path (Pulumi or docker-compose): both name every container
``ha-<stack>-<service>``. Docker is asked through its CLI; the app is reached only through the ports
the stack publishes on the host, always via 127.0.0.1.

A one-shot container (restart policy ``no`` or ``on-failure``, e.g. ``redis-cluster-init``) is done
once it exited 0; one that exited non-zero failed: its log is shown and the wait ends at once.
``judge`` makes that decision from what Docker reports, without I/O (tests/scripts).

Usage: python scripts/stack_health.py <stack> [--timeout SECONDS] [--env-file PATH]
Exit status 1 when a container is not running/healthy within the timeout, keeps restarting, or is
a one-shot job that exited non-zero.
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
    "Verdict",
    "app_endpoints",
    "health_summary",
    "judge",
    "main",
    "stack_containers",
    "wait_until_healthy",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
# More restarts than this while waiting means a crash loop: report it instead of waiting it out.
MAX_RESTARTS = 3
# Restart policies of one-shot jobs: "" and "no" never restart, "on-failure" only after a failure.
ONE_SHOT_POLICIES = frozenset({"", "no", "on-failure"})


@dataclass(frozen=True)
class Container:
    """What `docker inspect` says about one container of the stack."""

    stack: str
    name: str  # ha-<stack>-<service>
    status: str  # running | exited | restarting | ...
    health: str | None  # healthy | starting | unhealthy, None without a healthcheck
    exit_code: int
    restarts: int
    restart_policy: str
    ports: Mapping[str, Sequence[Mapping[str, str]]]

    @property
    def service(self) -> str:
        # Stack names may hold dashes (dev-cluster): strip the known prefix, do not split.
        return self.name.removeprefix(f"ha-{self.stack}-")

    @property
    def one_shot(self) -> bool:
        """A job that runs once and exits (Docker does not restart it after a clean exit)."""
        return self.restart_policy in ONE_SHOT_POLICIES

    @property
    def ready(self) -> bool:
        """Running and healthy (when it has a healthcheck), or a one-shot job that exited 0 (one
        still running has not done its work yet)."""
        if self.one_shot:
            return self.status == "exited" and self.exit_code == 0
        return self.status == "running" and self.health in (None, "healthy")

    @property
    def failed(self) -> bool:
        """A one-shot job that exited non-zero. Docker reports ``restarting``, not ``exited``,
        while an ``on-failure`` policy still restarts it, so ``exited`` means it gave up."""
        return self.one_shot and self.status == "exited" and self.exit_code != 0

    @property
    def state(self) -> str:
        if self.status == "running" and self.health:
            return self.health
        if self.status == "exited":
            return f"exited({self.exit_code})"
        return self.status


def _container(stack: str, info: Mapping[str, Any]) -> Container:
    state = info["State"]
    health = state.get("Health")
    return Container(
        stack=stack,
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
    return sorted((_container(stack, info) for info in json.loads(inspected)), key=lambda c: c.name)


def _show_logs(container: Container) -> None:
    logs = subprocess.run(
        ["docker", "logs", "--tail", "20", container.name],
        capture_output=True,
        text=True,
        check=False,
    )
    print(f"--- last log lines of {container.name} ({container.state}):", file=sys.stderr)
    print((logs.stdout + logs.stderr).rstrip(), file=sys.stderr)


@dataclass(frozen=True)
class Verdict:
    """Where a stack stands: every container ready, still waiting, or failed (with why)."""

    ready: bool
    failed: tuple[Container, ...] = ()  # one-shot jobs that exited non-zero, crash loops
    waiting: tuple[Container, ...] = ()
    reason: str = ""


def judge(containers: Sequence[Container], *, timed_out_after: float | None = None) -> Verdict:
    """The stack's state from its containers' Docker state (no I/O).

    Ready when every container is ready (a one-shot job that exited 0 counts as done). Failed at
    once when a one-shot job exited non-zero or a container restarted more than MAX_RESTARTS
    times; failed with every waiting container when the wait timed out (``timed_out_after``: the
    seconds waited); otherwise still waiting.
    """
    if not containers:
        return Verdict(False, reason="no container of the stack exists: is the stack deployed?")
    waiting = tuple(c for c in containers if not c.ready)
    if not waiting:
        return Verdict(True)
    exited = tuple(c for c in waiting if c.failed)
    crashing = tuple(c for c in waiting if not c.failed and c.restarts > MAX_RESTARTS)
    if exited or crashing:
        reasons = []
        if exited:
            names = ", ".join(f"{c.name} ({c.state})" for c in exited)
            reasons.append(f"{names}: one-shot job failed (exit status non-zero; its log is above)")
        if crashing:
            names = ", ".join(f"{c.name} ({c.state}, {c.restarts} restarts)" for c in crashing)
            reasons.append(f"{names} keep restarting")
        return Verdict(False, exited + crashing, waiting, "; ".join(reasons))
    if timed_out_after is not None:
        names = ", ".join(f"{c.name} ({c.state})" for c in waiting)
        return Verdict(
            False, waiting, waiting, f"{names} are not ready after {timed_out_after:.0f} s"
        )
    return Verdict(False, waiting=waiting)


def wait_until_healthy(stack: str, timeout: float) -> list[Container]:
    """Poll until every container of the stack is ready; RuntimeError (after printing the logs of
    the containers that failed) on a timeout, a one-shot job that exited non-zero, a crash loop
    or when the stack has no containers."""
    deadline = time.monotonic() + timeout
    while True:
        containers = stack_containers(stack)
        verdict = judge(
            containers, timed_out_after=timeout if time.monotonic() > deadline else None
        )
        if verdict.ready:
            return containers
        if verdict.failed or not containers:
            for container in verdict.failed:
                _show_logs(container)
            raise RuntimeError(verdict.reason)
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
