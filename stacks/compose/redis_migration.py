"""``scripts/redis-migrate``: move a compose-deployed stack's Redis data into Cluster mode, or
out of it, key by key (docs/migration.md "Into Redis Cluster and back").

Standalone and Sentinel share their first node's volume, so switching between those two is a
redeploy (the data stays); Cluster keeps its data on six other nodes, so moving into or out of it
copies every key. For ``scripts/redis-migrate <stack> [--to-dir DIR]`` (DIR: the rendered target,
default ``configs/<stack>``; the source is the mode deployed now):

1. stop the app's web and worker containers: no write happens while keys are copied (uploads are
   refused for that time, never lost; queued jobs wait in Redis);
2. start the target mode's Redis containers next to the source ones (``docker-compose up --no-deps``
   of just those services; a cluster's init job forms it);
3. copy every key and check each one on the target (``python -m app_support.redis.cluster_migrate``
   in a throwaway container of the app image on the stack's network; the target is emptied first
   of what it kept in its volumes from the last time the stack ran in that mode);
4. deploy the target configuration with ``scripts/up`` (the source's Redis containers go, their
   volumes stay; the app comes back in the new mode).

When step 1-3 fails the source was not changed: ``scripts/up <stack>`` with the source's
configuration brings the app back as it was. Prints one ``redis-migrate: {json}`` line at the end:
modes, key counts by type, copy and app-down seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from stacks.model import Topology, stack_settings, stack_topology
from stacks.model.stackfile import REPO_ROOT

__all__ = ["deployment_url", "main", "redis_services", "source_mode", "target_mode"]

MODES = ("standalone", "sentinel", "cluster")
WAIT_S = 300.0


def source_mode(running: Sequence[str], stack: str) -> str | None:
    """The Redis mode whose containers run now, from their names; None when none runs."""
    names = set(running)
    prefix = f"ha-{stack}-"
    if f"{prefix}redis-cluster-0" in names:
        return "cluster"
    if f"{prefix}sentinel-0" in names:
        return "sentinel"
    if f"{prefix}redis-0" in names:
        return "standalone"
    return None


def target_mode(compose: dict[str, object]) -> str:
    """The Redis mode a rendered docker-compose.yml deploys, from its services."""
    services = compose.get("services")
    assert isinstance(services, dict), "a docker-compose.yml without services"
    if "redis-cluster-0" in services:
        return "cluster"
    if "sentinel-0" in services:
        return "sentinel"
    return "standalone"


def redis_services(topology: Topology) -> list[str]:
    """The Redis services of a topology (data nodes, Sentinels, the cluster's init job)."""
    return [
        c.service for c in topology.containers if c.group == "redis" and "exporter" not in c.service
    ]


def deployment_url(topology: Topology) -> str:
    """How cluster_migrate names the topology's Redis: cluster://, sentinel:// or redis://."""
    redis = [c for c in topology.containers if c.group == "redis"]
    nodes = [c for c in redis if c.command[:2] == ("redis-entrypoint", "server")]
    sentinels = [c.ip for c in redis if "sentinel" in c.command]
    if any(c.service.startswith("redis-cluster-") for c in nodes):
        return "cluster://" + ",".join(f"{c.ip}:6379" for c in nodes)
    if sentinels:
        return "sentinel://" + ",".join(f"{ip}:26379" for ip in sentinels)
    return f"redis://{nodes[0].ip}:6379/0"


def _run(argv: Sequence[str], *, timeout: float = 600) -> str:
    # The migration works on the compose deployment: scripts/up must not switch to Pulumi.
    env = {**os.environ, "HA_STACK_DEPLOYER": "compose"}
    result = subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        cwd=REPO_ROOT,
        env=env,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:6])} ... failed (exit {result.returncode}):\n"
            f"{(result.stdout + result.stderr).strip()[-2000:]}"
        )
    return result.stdout


def _running(stack: str) -> list[str]:
    out = _run(["docker", "ps", "--format", "{{.Names}}", "--filter", f"name=^ha-{stack}-"])
    return out.split()


def _wait_ready(topology: Topology, services: Sequence[str]) -> None:
    """Until each service runs healthy (a one-shot job: exited 0); RuntimeError on a failed job
    or after WAIT_S."""
    give_up = time.monotonic() + WAIT_S
    while True:
        waiting = []
        for service in services:
            spec = topology.container(service)
            state = json.loads(_run(["docker", "inspect", "-f", "{{json .State}}", spec.name]))
            if spec.restart == "on-failure":
                if state["Status"] == "exited" and state["ExitCode"] != 0:
                    raise RuntimeError(f"{spec.name} exited {state['ExitCode']}")
                if not (state["Status"] == "exited" and state["ExitCode"] == 0):
                    waiting.append(spec.name)
            elif not state["Running"] or state.get("Health", {}).get("Status") != "healthy":
                waiting.append(spec.name)
        if not waiting:
            return
        if time.monotonic() > give_up:
            raise RuntimeError(f"not ready after {WAIT_S:.0f} s: {', '.join(waiting)}")
        time.sleep(1)


def migrate_stack(stack: str, to_dir: Path) -> dict[str, object]:
    """Run steps 1-4 of the module docstring; the summary. RuntimeError naming the failed step."""
    env_file = REPO_ROOT / "configs" / stack / ".env"
    if not env_file.exists():
        raise RuntimeError(f"{env_file} is missing: is the stack deployed with compose?")
    compose_file = to_dir / "docker-compose.yml"
    to_mode = target_mode(yaml.safe_load(compose_file.read_text()))
    from_mode = source_mode(_running(stack), stack)
    if from_mode is None:
        raise RuntimeError(f"no Redis container of stack {stack} runs: deploy it first")
    if from_mode == to_mode or "cluster" not in (from_mode, to_mode):
        raise RuntimeError(
            f"{from_mode} -> {to_mode}: this moves data into or out of cluster mode only; "
            "standalone <-> sentinel keeps the data with a redeploy (docs/migration.md)"
        )
    source = stack_topology(stack, {"ha-stack:redisMode": from_mode})
    target = stack_topology(stack, {"ha-stack:redisMode": to_mode})
    started = time.monotonic()
    apps = [c.name for c in source.containers if c.group == "app"]
    print(f"redis-migrate: {from_mode} -> {to_mode}; stopping {', '.join(apps)}", flush=True)
    _run(["docker", "stop", "--time", "30", *apps])
    stopped = time.monotonic()
    services = redis_services(target)
    print(f"redis-migrate: starting {', '.join(services)}", flush=True)
    _run(
        ["docker-compose", "--project-name", f"ha-{stack}", "--file", str(compose_file),
         "--env-file", str(env_file), "up", "--detach", "--no-deps", *services]
    )  # fmt: skip
    _wait_ready(target, services)
    app_image = target.container(apps[0].removeprefix(f"ha-{stack}-")).image
    print(
        f"redis-migrate: copying {deployment_url(source)} -> {deployment_url(target)}", flush=True
    )
    copied = _run(
        ["docker", "run", "--rm", "--network", target.network.name, "--env-file", str(env_file),
         "-e", f"REDIS_MASTER_NAME={stack_settings(stack).redis.master_name}",
         "--entrypoint", "python", app_image, "-m", "app_support.redis.cluster_migrate",
         "--source", deployment_url(source), "--target", deployment_url(target), "--flush-target"]
    )  # fmt: skip
    report = json.loads(copied.strip().splitlines()[-1])
    print(f"redis-migrate: {report['copied']} keys copied, {report['checked']} checked", flush=True)
    up = ["scripts/up", stack, "--no-build", "--no-install"]
    if to_dir.resolve() != (REPO_ROOT / "configs" / stack).resolve():
        up[2:2] = ["--config-dir", str(to_dir)]
    _run(up, timeout=900)
    done = time.monotonic()
    return {
        "from": from_mode,
        "to": to_mode,
        "keys": report["copied"],
        "by_type": report["by_type"],
        "checked": report["checked"],
        "copy_seconds": report["copy_seconds"],
        "app_down_seconds": round(done - stopped, 1),
        "total_seconds": round(done - started, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/redis-migrate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("stack")
    parser.add_argument("--to-dir", type=Path, help="the rendered target (default configs/<stack>)")
    args = parser.parse_args(argv)
    to_dir = args.to_dir or REPO_ROOT / "configs" / args.stack
    try:
        summary = migrate_stack(args.stack, to_dir)
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        print(
            f"redis-migrate: {error}\nThe source deployment's data is unchanged; "
            f"scripts/up {args.stack} [--config-dir <its rendered dir>] brings the app back.",
            file=sys.stderr,
        )
        return 1
    print(f"redis-migrate: {json.dumps(summary)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
