"""``scripts/gen-env``: write the git-ignored ``configs/<stack>/.env`` with the compose secrets.

- The file is private: mode 0600, and an existing file with looser permissions is made 0600.
- An existing value is never changed (the passwords are baked into the data volumes) and a name is
  never written twice: the file is read as compose reads it (python-dotenv: ``export`` prefixes,
  quotes, spaces around ``=``), the missing names are added, and the result replaces the file
  through a private temporary file.
- An existing secret that is not URL-safe (it goes into DATABASE_URL unescaped) is refused with
  the variable named, and nothing is written.

Generated values are hex, so they need no quoting in URLs, YAML or shell.
"""

import os
import re
import secrets
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from stacks.compose.stack_args import parse_stack_args, stack_parser
from stacks.model import SECRET_CONFIG_KEYS, SECRET_NAMES
from stacks.model.secret_keys import secret_problem
from stacks.model.stackfile import REPO_ROOT

__all__ = [
    "EnvEntry",
    "EnvFileError",
    "EnvFileResult",
    "ensure_env_file",
    "main",
    "parse_env",
    "read_env_file",
    "write_private",
]

_HEADER = "# Secrets of the compose deployment (scripts/gen-env). Never commit.\n"
_CONFIG_KEY = {secret: key for key, secret in SECRET_CONFIG_KEYS.items()}
# KEY=value as python-dotenv (compose's reader) takes it: optional ``export``, spaces around "=".
_ASSIGNMENT = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)")
_DOUBLE_ESCAPES = re.compile(r"\\([\\'\"abfnrtv])")
_ESCAPED = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


@dataclass(frozen=True)
class EnvEntry:
    name: str
    value: str
    line: int


class EnvFileError(ValueError):
    """An existing .env holds a secret compose cannot put into the stack's URLs unchanged."""


@dataclass(frozen=True)
class EnvFileResult:
    path: Path
    generated: list[str] = field(default_factory=list)
    old_mode: int | None = None  # the permissions it had when they were looser than 0600
    warnings: list[str] = field(default_factory=list)


def _value(text: str) -> str:
    """The value part of an assignment, unquoted as python-dotenv does."""
    if text[:1] == "'" and "'" in text[1:]:
        return text[1 : text.index("'", 1)]
    if text[:1] == '"':
        match = re.match(r'"((?:\\.|[^"\\])*)"', text)
        if match:
            return _DOUBLE_ESCAPES.sub(lambda m: _ESCAPED.get(m[1], m[1]), match[1])
    return re.split(r"\s+#", text, maxsplit=1)[0].strip()


def parse_env(text: str) -> list[EnvEntry]:
    """Every ``KEY=value`` assignment of a .env text, in order (later ones win in compose)."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        match = _ASSIGNMENT.fullmatch(line)
        if match:
            entries.append(EnvEntry(match[1], _value(match[2].strip()), number))
    return entries


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of a compose .env file (the last of a name wins, as in compose); an empty
    mapping when the file does not exist."""
    if not path.exists():
        return {}
    return {entry.name: entry.value for entry in parse_env(path.read_text())}


def _check(path: Path, entries: list[EnvEntry]) -> list[str]:
    """Warnings for names given twice; EnvFileError naming each secret that is not URL-safe."""
    problems: list[str] = []
    warnings: list[str] = []
    lines: dict[str, list[int]] = {}
    for entry in entries:
        lines.setdefault(entry.name, []).append(entry.line)
    for name, at in lines.items():
        if name in SECRET_NAMES and len(at) > 1:
            warnings.append(f"{name} is set {len(at)} times (lines {at}); compose uses the last")
    for name, value in {e.name: e.value for e in entries}.items():
        problem = secret_problem(_CONFIG_KEY[name], value) if name in _CONFIG_KEY else None
        if problem is not None:
            problems.append(f"{name} (line {lines[name][-1]}): {problem}")
    if problems:
        raise EnvFileError(
            f"{path}: " + "; ".join(problems) + ". Replace the value, e.g. with "
            "$(openssl rand -hex 24), and change it in the running service too (the data "
            "volumes keep the old password)"
        )
    return warnings


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` through a temporary file created 0600 next to it: readers
    see the old or the new content, never a part, and the mode is exactly 0600 whatever the umask
    or an older file's mode."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # exactly 0600, whatever the umask
        with os.fdopen(fd, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def ensure_env_file(path: Path) -> EnvFileResult:
    """Create ``path`` (mode 0600) or add the secrets it lacks, keeping every existing line.

    Raises EnvFileError (nothing written) when an existing secret is not URL-safe.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text() if path.exists() else ""
    entries = parse_env(text)
    warnings = _check(path, entries)
    present = {entry.name for entry in entries}
    missing = [name for name in SECRET_NAMES if name not in present]
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o600
    # Group or others may read it: the secrets are not private (a stricter mode is kept).
    looser = mode if mode & 0o077 else None
    if missing:
        if text and not text.endswith("\n"):
            text += "\n"
        text = (text or _HEADER) + "".join(f"{n}={secrets.token_hex(24)}\n" for n in missing)
        write_private(path, text)
    elif looser is not None:
        os.chmod(path, 0o600)
    return EnvFileResult(path, missing, looser, warnings)


def main(argv: list[str] | None = None) -> int:
    """Ensure each selected stack's .env; 1 when one holds a secret that is not URL-safe."""
    parser = stack_parser(
        "scripts/gen-env",
        __doc__.splitlines()[0] if __doc__ else None,
        directory_flag="--dir",
        directory_help="directory of the .env (default: configs/<stack>)",
    )
    args, stacks = parse_stack_args(parser, argv)
    status = 0
    for stack in stacks:
        path = (args.directory or REPO_ROOT / "configs" / stack) / ".env"
        try:
            result = ensure_env_file(path)
        except EnvFileError as error:
            print(f"scripts/gen-env: {stack}: {error}", file=sys.stderr)
            status = 1
            continue
        for warning in result.warnings:
            print(f"scripts/gen-env: {stack}: {path}: {warning}", file=sys.stderr)
        state = f"generated {', '.join(result.generated)}" if result.generated else "kept as is"
        if result.old_mode is not None:
            state += f"; mode {result.old_mode:04o} -> 0600"
        print(f"{stack}: {path} {state}")
    return status


if __name__ == "__main__":
    sys.exit(main())
