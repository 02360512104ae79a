"""``scripts/render``: write configs/<stack>/ from Pulumi.<stack>.yaml (see the script's usage)."""

import argparse
import sys

from stacks.compose.files import write_rendered_files
from stacks.compose.stack_args import parse_stack_args, stack_parser
from stacks.model import StackConfigError, stack_topology
from stacks.model.stackfile import REPO_ROOT

__all__ = ["main"]


def _override(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.startswith("ha-stack:"):
        raise argparse.ArgumentTypeError(f"{text!r} is not ha-stack:KEY=VALUE")
    return key, value


def main(argv: list[str] | None = None) -> int:
    """Render each selected stack; 2 (nothing written for that stack) on a StackConfigError."""
    parser = stack_parser(
        "scripts/render",
        __doc__,
        directory_flag="--out",
        directory_help="output directory (default: configs/<stack>)",
    )
    parser.add_argument("--set", dest="overrides", type=_override, action="append", default=[])
    args, stacks = parse_stack_args(parser, argv)
    for stack in stacks:
        try:
            topology = stack_topology(stack, dict(args.overrides))
        except StackConfigError as error:
            print(f"scripts/render: {stack}: {error}", file=sys.stderr)
            return 2
        directory = args.directory or REPO_ROOT / "configs" / stack
        written = write_rendered_files(topology, directory)
        print(f"{stack}: {len(written)} files in {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
