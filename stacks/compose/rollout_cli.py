"""``scripts/rollout <stack> --tag TAG``, ``scripts/rollback <stack>``, ``... status``: replace the
app's replicas one at a time with docker-compose or Pulumi (docs/recovery.md, "Rolling updates
and rollback").

Exit status: 0 done (or nothing to do), 1 stopped at a replica that was not ready, which is back
on its old version, 3 stopped and that replica is not ready on its old version either, 2 a usage
or settings error before anything changed.
"""

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

import yaml

from stacks.compose.rollout import Event, RolloutResult, plan_rollout, roll_out
from stacks.compose.rollout_docker import ComposeReplicas, PulumiReplicas, image_exists
from stacks.compose.rollout_state import (
    RolloutRecord,
    after_rollout,
    compose_override,
    load_record,
    pinned_tags,
    rollback_target,
    save_record,
    with_tag,
)
from stacks.model import StackConfigError, stack_settings
from stacks.model.app_version import APP_IMAGE, TAG_PATTERN
from stacks.model.stackfile import REPO_ROOT
from stacks.model.topology import build_topology

__all__ = ["main", "record_path"]

EXIT_STOPPED: Final = 1
EXIT_USAGE: Final = 2
EXIT_NOT_RESTORED: Final = 3


def record_path(stack: str, root: Path = REPO_ROOT) -> Path:
    return root / "build" / "rollout" / f"{stack}.json"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/rollout", description=__doc__)
    parser.add_argument("command", choices=("rollout", "rollback", "status"))
    parser.add_argument("stack")
    parser.add_argument("--tag", help=f"rollout: the app image tag to deploy ({TAG_PATTERN})")
    parser.add_argument("--deployer", choices=("compose", "pulumi"), default="compose")
    parser.add_argument(
        "--timeout", type=float, default=120, help="seconds each replica has to become ready"
    )
    parser.add_argument(
        "--restore-timeout", type=float, default=300,
        help="seconds a replica put back on its old version has to become ready again",
    )  # fmt: skip
    parser.add_argument("--events", type=Path, help="append each event as a JSON line here")
    return parser


@dataclass(frozen=True)
class _App:
    """The app services of the stack in rollout order, their containers and roles."""

    services: list[str]
    containers: dict[str, str]
    roles: dict[str, str]
    declared: dict[str, str]  # service -> the tag the settings give it


def _app(stack: str) -> tuple[_App, str, bool]:
    """The stack's app services, its declared app tag, and whether Pulumi builds the images."""
    settings = stack_settings(stack)
    specs = [c for c in build_topology(settings).containers if c.group == "app"]
    app = _App(
        services=[c.service for c in specs],
        containers={c.service: c.name for c in specs},
        roles={c.service: c.command[-1] for c in specs},
        declared={c.service: settings.images.app.tag_of(c.service) for c in specs},
    )
    return app, settings.images.app.tag, settings.images.build


class _Journal:
    """Prints each event and appends it to the events file, if any."""

    def __init__(self, stack: str, events: Path | None, out: TextIO) -> None:
        self.stack, self.events, self.out = stack, events, out

    def __call__(self, event: Event) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(event.at))
        print(f"{stamp} {self.stack}: {event.service} {event.kind} {event.detail}", file=self.out)
        self.out.flush()
        if self.events is not None:
            self.events.parent.mkdir(parents=True, exist_ok=True)
            with self.events.open("a") as file:
                line = {"at": event.at, "service": event.service, "kind": event.kind}
                file.write(json.dumps({**line, "detail": event.detail}) + "\n")


def _summary(result: RolloutResult, target: str, seconds: float) -> tuple[int, str]:
    if result.completed:
        return 0, f"{len(result.replaced)} replicas on {target} in {seconds:.1f} s"
    stopped = f"stopped at {result.failed} after {seconds:.1f} s ({len(result.replaced)} replaced)"
    if result.restored:
        return EXIT_STOPPED, f"{stopped}; {result.failed} is back on its old version"
    return EXIT_NOT_RESTORED, f"{stopped}; {result.failed} is NOT ready on its old version either"


def main(argv: list[str] | None = None, root: Path = REPO_ROOT) -> int:
    args = _parser().parse_args(argv)
    prog = f"scripts/{args.command}"
    try:
        app, declared, builds = _app(args.stack)
        path = record_path(args.stack, root)
        record = load_record(path, args.stack, app.services, app.declared, declared)
        if args.command == "status":
            print(json.dumps({"running": dict(record.running), "previous": record.previous}))
            return 0
        target = args.tag if args.command == "rollout" else rollback_target(record)
    except (StackConfigError, ValueError) as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "rollout" and (target is None or not re.fullmatch(TAG_PATTERN, target)):
        print(f"{prog}: --tag: {target!r} is not an image tag ({TAG_PATTERN})", file=sys.stderr)
        return EXIT_USAGE
    # Pulumi builds the declared tag itself; any other version must already be on the engine.
    built_here = args.deployer == "pulumi" and builds and target == declared
    if not built_here and not image_exists(f"{APP_IMAGE}:{target}"):
        print(
            f"{prog}: no image {APP_IMAGE}:{target} on this Docker engine (build or tag it first,"
            f" e.g. docker tag {APP_IMAGE}:{declared} {APP_IMAGE}:{target})",
            file=sys.stderr,
        )
        return EXIT_USAGE

    before = record
    current = [record]

    def remember(service: str, tag: str) -> None:
        current[0] = with_tag(current[0], service, tag)
        save_record(path, current[0])

    override = path.with_suffix(".compose.yml")
    compose_file = root / "configs" / args.stack / "docker-compose.yml"

    def write_override() -> bool:
        if not pinned_tags(current[0]):
            override.unlink(missing_ok=True)
            return False
        version = str(yaml.safe_load(compose_file.read_text()).get("version", "2.4"))
        override.write_text(compose_override(current[0], version))
        return True

    replicas: ComposeReplicas | PulumiReplicas
    if args.deployer == "compose":
        replicas = ComposeReplicas(
            app.containers, app.roles, stack=args.stack, compose_file=compose_file,
            override_file=override, write_override=write_override,
        )  # fmt: skip
    else:
        replicas = PulumiReplicas(
            app.containers, app.roles, stack=args.stack, root=root,
            pinned=lambda: pinned_tags(current[0]),
        )  # fmt: skip
    steps = plan_rollout(app.services, lambda s: record.running[s], target)
    print(
        f"{prog} {args.stack}: {len(steps)} of {len(app.services)} app services to {target} with"
        f" {args.deployer}, one at a time, {args.timeout:.0f} s each to become ready"
    )
    started = time.monotonic()
    result = roll_out(
        steps, replicas, timeout=args.timeout, restore_timeout=args.restore_timeout,
        record=remember, notify=_Journal(args.stack, args.events, sys.stdout),
    )  # fmt: skip
    final: RolloutRecord = after_rollout(before, current[0])
    save_record(path, final)
    status, summary = _summary(result, target, time.monotonic() - started)
    print(f"{prog} {args.stack}: {summary}")
    return status


if __name__ == "__main__":
    sys.exit(main())
