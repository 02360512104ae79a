"""The command line both compose scripts share: stack names (default: every committed stack) and
one directory option that only makes sense for a single stack."""

import argparse
from pathlib import Path

from stacks.model.stackfile import committed_stacks

__all__ = ["parse_stack_args", "stack_parser"]


def stack_parser(
    prog: str, description: str | None, *, directory_flag: str, directory_help: str
) -> argparse.ArgumentParser:
    """A parser with positional ``stacks`` and ``directory_flag`` (stored as ``directory``)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("stacks", nargs="*", help="default: every Pulumi.<stack>.yaml")
    parser.add_argument(directory_flag, dest="directory", type=Path, help=directory_help)
    parser.set_defaults(directory_flag=directory_flag)
    return parser


def parse_stack_args(
    parser: argparse.ArgumentParser, argv: list[str] | None
) -> tuple[argparse.Namespace, list[str]]:
    """The parsed arguments and the stacks they select; exits with a usage error (status 2) when
    the directory option is given for more than one stack."""
    args = parser.parse_args(argv)
    stacks: list[str] = args.stacks or committed_stacks()
    if args.directory is not None and len(stacks) != 1:
        parser.error(f"{args.directory_flag} needs exactly one stack")
    return args, stacks
