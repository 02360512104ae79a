"""``scripts/gen-env``: write the git-ignored ``configs/<stack>/.env`` with the compose secrets.

An existing file is never overwritten (its passwords are baked into the data volumes); missing
keys are appended. Values are hex so they need no quoting in URLs, YAML or shell.
"""

import os
import secrets
import sys
from pathlib import Path

from stacks.compose.stack_args import parse_stack_args, stack_parser
from stacks.model import SECRET_NAMES
from stacks.model.stackfile import REPO_ROOT

__all__ = ["ensure_env_file", "main", "read_env_file"]


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a compose .env file; an empty mapping when the file does not exist."""
    if not path.exists():
        return {}
    values = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.lstrip().startswith("#"):
            values[key.strip()] = value.strip()
    return values


def ensure_env_file(path: Path) -> list[str]:
    """Create ``path`` (mode 0600) or add the secrets it lacks; returns the names it generated."""
    path.parent.mkdir(parents=True, exist_ok=True)
    present = set(read_env_file(path))
    missing = [name for name in SECRET_NAMES if name not in present]
    if missing:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as env:
            if not present:
                env.write("# Secrets of the compose deployment (scripts/gen-env). Never commit.\n")
            for name in missing:
                env.write(f"{name}={secrets.token_hex(24)}\n")
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = stack_parser(
        "scripts/gen-env",
        __doc__,
        directory_flag="--dir",
        directory_help="directory of the .env (default: configs/<stack>)",
    )
    args, stacks = parse_stack_args(parser, argv)
    for stack in stacks:
        path = (args.directory or REPO_ROOT / "configs" / stack) / ".env"
        generated = ensure_env_file(path)
        state = f"generated {', '.join(generated)}" if generated else "kept as is"
        print(f"{stack}: {path} {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
