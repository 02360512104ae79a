"""The durable record of a stack's app version: which tag each app service runs, and the
version a rollback returns to.

Kept per stack in ``build/rollout/<stack>.json`` (git-ignored; one file per stack and host),
written before and after each replacement, so it follows the deployment even when a rollout is
killed half-way. Without a file, every service runs the stack's declared version (``ha-stack:
appImageTag``). From it come what the deployers need: a docker-compose override file pinning
the services that differ from the declared version, and the ``ha-stack:appImageTags`` map the
Pulumi program reads.
"""

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from stacks.model.app_version import APP_IMAGE

__all__ = [
    "RolloutRecord",
    "after_rollout",
    "compose_override",
    "load_record",
    "pinned_tags",
    "rollback_target",
    "save_record",
    "uniform_tag",
    "with_tag",
]


@dataclass(frozen=True)
class RolloutRecord:
    """``running``: service -> tag; ``declared``: the stack's own app version (from its
    settings); ``previous``: what rollback returns to (None until a rollout replaced a replica)."""

    stack: str
    declared: str
    running: Mapping[str, str] = field(default_factory=dict)
    previous: str | None = None


def load_record(
    path: Path, stack: str, services: Sequence[str], running: Mapping[str, str], declared: str
) -> RolloutRecord:
    """The record at ``path`` for ``services``; ``running`` (what the settings say each service
    runs) for a service the file does not name, or when there is no file. ValueError naming the
    file when it is not a record of ``stack``."""
    saved: dict[str, object] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not JSON ({error}); delete it to start afresh") from None
        if not isinstance(loaded, dict) or loaded.get("stack") != stack:
            raise ValueError(f"{path}: not a rollout record of stack {stack}")
        saved = loaded
    tags = saved.get("running")
    known = tags if isinstance(tags, dict) else {}
    previous = saved.get("previous")
    return RolloutRecord(
        stack=stack,
        declared=declared,
        running={s: str(known.get(s, running[s])) for s in services},
        previous=previous if isinstance(previous, str) else None,
    )


def save_record(path: Path, record: RolloutRecord) -> None:
    """Write ``record`` atomically (a crash leaves the old file or the new one, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "stack": record.stack,
        "declared": record.declared,
        "running": dict(record.running),
        "previous": record.previous,
    }
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    os.replace(partial, path)


def with_tag(record: RolloutRecord, service: str, tag: str) -> RolloutRecord:
    return replace(record, running={**record.running, service: tag})


def uniform_tag(record: RolloutRecord) -> str | None:
    """The one tag every service runs, or None when they differ."""
    tags = set(record.running.values())
    return tags.pop() if len(tags) == 1 else None


def after_rollout(before: RolloutRecord, after: RolloutRecord) -> RolloutRecord:
    """The record once a rollout from ``before`` ended as ``after``: when every service ran one
    version before and some run another now (the rollout completed, or stopped after replacing
    some), that version becomes ``previous``, so a rollback returns every replica to it. A
    rollout that changed nothing (stopped at its first replica, restored) leaves ``previous``."""
    old = uniform_tag(before)
    if old is not None and any(tag != old for tag in after.running.values()):
        return replace(after, previous=old)
    return after


def rollback_target(record: RolloutRecord) -> str:
    """The version a rollback deploys; ValueError when no rollout recorded one."""
    if record.previous is None:
        raise ValueError(
            f"stack {record.stack}: no previous app version recorded (no rollout from one version"
            " has replaced a replica on this host): roll out a tag with scripts/rollout instead"
        )
    return record.previous


def pinned_tags(record: RolloutRecord) -> dict[str, str]:
    """Services whose tag differs from the declared version (``ha-stack:appImageTags``)."""
    return {s: t for s, t in sorted(record.running.items()) if t != record.declared}


def compose_override(record: RolloutRecord, compose_version: str) -> str:
    """A docker-compose override file setting the image of every pinned service."""
    services = {s: {"image": f"{APP_IMAGE}:{t}"} for s, t in pinned_tags(record).items()}
    header = (
        f"# Written by scripts/rollout from build/rollout/{record.stack}.json: the app services\n"
        "# whose version differs from the stack's declared one. Not to be edited.\n"
    )
    body = yaml.safe_dump({"version": compose_version, "services": services}, sort_keys=True)
    return header + body
