"""Before a compose deployment: do the secrets it will use match the data volumes that exist?

PostgreSQL keeps the password its data volume was initialised with (``pg_authid``); the compose
deployment passes ``POSTGRES_PASSWORD`` from a .env. When the two differ the app cannot log in and
restarts in a loop, so scripts/up runs this first and stops, naming the secret and the volume.
(Redis keeps no password in its volumes: the entrypoint sets it from the environment each start.)

The stored verifier is read cheaply from what exists:

- PostgreSQL's container runs: ``psql`` inside it (local connections are trusted), one query;
- only the volume exists: a throwaway container of the same image, no network, runs
  ``postgres --single`` on the volume (PostgreSQL refuses while a server holds the volume);
- no volume, or one never initialised: nothing to check (initdb will take the .env's password).

A variant deployment (``scripts/up <stack> --config-dir DIR``) uses the stack's own .env; a .env in
DIR that holds other secrets is refused here too, since it would not be used.

Usage: python -m stacks.compose.volume_secrets <stack> --env-file FILE [--variant-env FILE]
Exit status 1 with the problem and its fix on stderr; 0 when everything agrees.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from stacks.compose.envfile import read_env_file
from stacks.compose.stored_password import UnknownVerifierError, password_matches
from stacks.model import SECRET_NAMES, Topology, stack_topology

__all__ = [
    "PostgresVolume",
    "Runner",
    "docker_runner",
    "env_conflicts",
    "main",
    "postgres_volume",
    "read_stored_verifier",
    "volume_problem",
]

SECRET = "POSTGRES_PASSWORD"  # noqa: S105 (the variable's name, not a password)
# argv -> (exit status, stdout, stderr): Docker's CLI, or a fake in the tests.
Runner = Callable[[Sequence[str], str | None], tuple[int, str, str]]
_SINGLE_USER_VALUE = re.compile(r'rolpassword = "([^"]*)"')


@dataclass(frozen=True)
class PostgresVolume:
    """Where the stack's PostgreSQL keeps its data, from the stack model."""

    container: str
    volume: str
    data_dir: str
    image: str
    user: str


def postgres_volume(topology: Topology) -> PostgresVolume | None:
    """The PostgreSQL data volume of the topology; None when it has no PostgreSQL container."""
    specs = [spec for spec in topology.containers if spec.service == "postgres"]
    if not specs:
        return None
    spec = specs[0]
    data = next(m for m in spec.volumes if m.volume.endswith("-postgres-data"))
    return PostgresVolume(
        container=spec.name,
        volume=data.volume,
        data_dir=data.path,
        image=spec.image,
        user=spec.env["POSTGRES_USER"],
    )


def docker_runner(argv: Sequence[str], stdin: str | None) -> tuple[int, str, str]:
    """Run the docker CLI (bounded: a hung engine is an error, not a hang)."""
    result = subprocess.run(
        ["docker", *argv], input=stdin, capture_output=True, text=True, check=False, timeout=120
    )
    return result.returncode, result.stdout, result.stderr


def read_stored_verifier(pg: PostgresVolume, run: Runner = docker_runner) -> str | None:
    """``rolpassword`` of the stack's PostgreSQL user as the data volume holds it; None when the
    volume does not exist or was never initialised. RuntimeError when it cannot be read."""
    if run(["volume", "inspect", pg.volume], None)[0] != 0:
        return None
    # The role name is the model's postgresUser, validated as [A-Za-z_][A-Za-z0-9_]*; quoted anyway.
    role = pg.user.replace("'", "''")
    query = f"SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'"  # noqa: S608
    status, out, _ = run(["inspect", "-f", "{{.State.Running}}", pg.container], None)
    if status == 0 and out.strip() == "true":
        status, out, err = run(
            ["exec", pg.container, "psql", "-U", pg.user, "-d", "postgres", "-Atc", query], None
        )
        if status != 0:
            raise RuntimeError(f"psql in {pg.container} failed: {err.strip()}")
        return out.strip() or None
    status, out, err = run(
        ["run", "--rm", "-i", "--network", "none", "--user", "postgres",
         "-v", f"{pg.volume}:{pg.data_dir}", "--entrypoint", "sh", pg.image, "-c",
         # No PG_VERSION: never initialised. Otherwise one query in single-user mode.
         f"test -s {pg.data_dir}/PG_VERSION || exit 3; "
         f"exec postgres --single -D {pg.data_dir} postgres"],
        query + "\n",
    )  # fmt: skip
    if status == 3:
        return None
    found = _SINGLE_USER_VALUE.search(out)
    if status != 0 or found is None:
        raise RuntimeError(
            f"reading volume {pg.volume} with a throwaway {pg.image} container failed "
            f"(exit {status}): {(err or out).strip()[-500:]}"
        )
    return found[1]


def volume_problem(
    pg: PostgresVolume, stored: str | None, env: Mapping[str, str], env_file: Path, stack: str
) -> str | None:
    """The error scripts/up prints when ``env``'s POSTGRES_PASSWORD is not the volume's; None when
    it is, or when there is no initialised volume."""
    if stored is None:
        return None
    password = env.get(SECRET)
    try:
        if password is not None and password_matches(stored, password, pg.user):
            return None
    except UnknownVerifierError as error:
        return f"{SECRET}: cannot check it against volume {pg.volume}: {error}"
    what = "has no" if password is None else "has another"
    return (
        f"{SECRET}: {env_file} {what} {SECRET} than the one volume {pg.volume} was initialised "
        f"with (PostgreSQL user {pg.user}); the app could not log in. Nothing was deployed. Fix: "
        f"put the volume's password back as {SECRET} in {env_file} (a variant deployment uses "
        f"the stack's own configs/{stack}/.env), or, to drop that data, delete the volume: "
        f"scripts/down {stack} --volumes"
    )


def env_conflicts(stack_env: Mapping[str, str], variant_env: Mapping[str, str]) -> list[str]:
    """Secrets a variant directory's .env sets to other values than the stack's .env."""
    return [
        name
        for name in SECRET_NAMES
        if name in variant_env and variant_env[name] != stack_env.get(name)
    ]


def main(argv: Sequence[str] | None = None, run: Runner = docker_runner) -> int:
    """Check the stack's secrets against its PostgreSQL volume; 1 (and why, on stderr) if not."""
    parser = argparse.ArgumentParser(prog="volume_secrets", description=__doc__.splitlines()[0])
    parser.add_argument("stack")
    parser.add_argument("--env-file", type=Path, required=True, help="the stack's .env")
    parser.add_argument("--variant-env", type=Path, help="a variant directory's .env, if any")
    args = parser.parse_args(argv)
    env = read_env_file(args.env_file)
    if args.variant_env is not None:
        conflicts = env_conflicts(env, read_env_file(args.variant_env))
        if conflicts:
            print(
                f"scripts/up: {', '.join(conflicts)}: {args.variant_env} differs from "
                f"{args.env_file}; a variant deploys with the stack's secrets (its volumes were "
                f"made with them). Fix: delete {args.variant_env}",
                file=sys.stderr,
            )
            return 1
    pg = postgres_volume(stack_topology(args.stack))
    if pg is None:
        return 0
    try:
        problem = volume_problem(pg, read_stored_verifier(pg, run), env, args.env_file, args.stack)
    except RuntimeError as error:
        problem = f"{SECRET}: cannot check it against volume {pg.volume}: {error}"
    if problem is not None:
        print(f"scripts/up: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
