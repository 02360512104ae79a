"""``scripts/render``: write configs/<stack>/ from Pulumi.<stack>.yaml (see the script's usage)."""

import argparse
import sys
from pathlib import Path

from stacks.model import StackConfigError, stack_topology
from stacks.model.stackfile import REPO_ROOT
from stacks.render.files import write_rendered_files

__all__ = ["main"]


def _override(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.startswith("ha-stack:"):
        raise argparse.ArgumentTypeError(f"{text!r} is not ha-stack:KEY=VALUE")
    return key, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/render", description=__doc__)
    parser.add_argument("stacks", nargs="*", help="default: every Pulumi.<stack>.yaml")
    parser.add_argument("--set", dest="overrides", type=_override, action="append", default=[])
    parser.add_argument("--out", type=Path, help="output directory (default: configs/<stack>)")
    args = parser.parse_args(argv)
    stacks = args.stacks or sorted(p.name.split(".")[1] for p in REPO_ROOT.glob("Pulumi.*.yaml"))
    if args.out is not None and len(stacks) != 1:
        parser.error("--out needs exactly one stack")
    for stack in stacks:
        try:
            topology = stack_topology(stack, dict(args.overrides))
        except StackConfigError as error:
            print(f"scripts/render: {stack}: {error}", file=sys.stderr)
            return 2
        directory = args.out or REPO_ROOT / "configs" / stack
        written = write_rendered_files(topology, directory)
        print(f"{stack}: {len(written)} files in {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
