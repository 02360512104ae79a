"""Write ``configs/<stack>/secrets/<NAME>``: the files the Swarm stack file reads its Docker
secrets from (``docker stack deploy`` creates the secrets from them).

The values are those of the stack's git-ignored ``.env`` (scripts/gen-env makes it, and this
makes it too when it is missing), so a stack keeps its passwords from one deploy to the next.
Each file is private (0600) and ignored by git. Usage:
``python -m stacks.compose.swarm_secrets prod-swarm [--dir DIR]``.
"""

import sys
from pathlib import Path

from stacks.compose.envfile import EnvFileError, ensure_env_file, read_env_file, write_private
from stacks.compose.stack_args import parse_stack_args, stack_parser
from stacks.compose.swarm import SECRETS_DIR
from stacks.model import SECRET_NAMES
from stacks.model.stackfile import REPO_ROOT

__all__ = ["main", "write_secret_files"]


def write_secret_files(directory: Path) -> list[Path]:
    """``directory/secrets/<NAME>`` (0600) for every stack secret, from ``directory/.env``
    (created when missing); EnvFileError when the .env holds a secret that is not URL-safe."""
    ensure_env_file(directory / ".env")
    values = read_env_file(directory / ".env")
    target = directory / SECRETS_DIR
    target.mkdir(mode=0o700, exist_ok=True)
    written = []
    for name in SECRET_NAMES:
        path = target / name
        write_private(path, values[name])  # no newline: the launcher reads the file as the value
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Write each selected stack's secret files; 1 when its .env holds a bad secret."""
    parser = stack_parser(
        "python -m stacks.compose.swarm_secrets",
        __doc__.splitlines()[0] if __doc__ else None,
        directory_flag="--dir",
        directory_help="directory of the stack file (default: configs/<stack>)",
    )
    args, stacks = parse_stack_args(parser, argv)
    for stack in stacks:
        directory = args.directory or REPO_ROOT / "configs" / stack
        try:
            written = write_secret_files(directory)
        except EnvFileError as error:
            print(f"swarm_secrets: {stack}: {error}", file=sys.stderr)
            return 1
        print(f"{stack}: {len(written)} secret files in {directory / SECRETS_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
