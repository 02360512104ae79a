"""Check a ``pulumi preview --json`` / ``pulumi up --json`` against what the model says must change.

Usage: python scripts/pulumi_steps.py <stack> <preview.json> noop
       python scripts/pulumi_steps.py <stack> <preview.json> config KEY=VALUE
       python scripts/pulumi_steps.py <stack> <preview.json> rebuild IMAGE_DIR
Exits 1 naming the unexpected and the missing changes. ``config``: the containers whose spec
differs between the committed config and the override are replaced (or created, or deleted) and
nothing else but the stack's outputs; ``rebuild``: the image and exactly the containers that run it.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stacks.model import stack_topology

__all__ = ["changes", "main"]

CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"


def _steps(text: str) -> list[dict[str, str]]:
    # `pulumi preview --json` prints one object with "steps"; `pulumi up --json` prints an event
    # stream (one JSON object a line) whose resourcePreEvents carry each step's op and URN.
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = None
    if isinstance(document, dict):
        return list(document.get("steps", []))
    steps = []
    for line in text.splitlines():
        event = json.loads(line) if line.strip() else {}
        pre = event.get("resourcePreEvent")
        if pre and not pre.get("planning"):
            steps.append({"op": pre["metadata"]["op"], "urn": pre["metadata"]["urn"]})
    return steps


def changes(path: str) -> dict[tuple[str, str], str]:
    """(type, name) -> op of every step that is not ``same`` (read steps left out); for a
    replacement, the last of its steps (create-replacement, replace, delete-replaced)."""
    found = {}
    for step in _steps(Path(path).read_text()):
        if step["op"] in ("same", "read", "refresh"):
            continue
        urn = step["urn"]
        typ = urn.split("::")[-2].split("$")[-1]
        found[(typ, urn.split("::")[-1])] = step["op"]
    return found


def main(argv: list[str]) -> int:
    stack, path, kind, *rest = argv
    found = changes(path)
    base = stack_topology(stack)
    expected: dict[tuple[str, str], set[str]] = {}
    replace = {"replace", "create-replacement", "delete-replaced"}
    if kind == "config":
        key, value = rest[0].split("=", 1)
        other = stack_topology(stack, {key: value})
        old = {c.name: c for c in base.containers}
        new = {c.name: c for c in other.containers}
        for name in old.keys() | new.keys():
            if name not in old:
                expected[(CONTAINER, name)] = {"create"}
            elif name not in new:
                expected[(CONTAINER, name)] = {"delete"}
            elif old[name] != new[name]:
                expected[(CONTAINER, name)] = replace | {"update"}
        expected[("pulumi:pulumi:Stack", f"ha-stack-{stack}")] = {"update"}
    elif kind == "rebuild":
        ref = next(r for d, r in base.images.items() if d == rest[0])
        expected[(IMAGE, f"ha-{stack}-images-{rest[0]}")] = replace
        for container in base.containers:
            if container.image == ref:
                expected[(CONTAINER, container.name)] = replace
    elif kind != "noop":
        print(f"pulumi_steps: unknown check {kind}", file=sys.stderr)
        return 2
    wrong = {k: op for k, op in found.items() if op not in expected.get(k, set())}
    # The stack's outputs may stay as they are (a change that moves no endpoint).
    missing = {k for k in expected if k not in found and k[0] != "pulumi:pulumi:Stack"}
    print(
        f"{kind}: {len(found)} changes: "
        + ", ".join(f"{op} {n}" for (_, n), op in sorted(found.items()))
    )
    if wrong or missing:
        print(f"pulumi_steps: unexpected {wrong}; missing {sorted(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
