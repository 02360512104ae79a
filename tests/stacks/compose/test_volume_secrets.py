"""scripts/up's check of the secrets against the stack's existing PostgreSQL volume, with a fake
Docker CLI (the drill tests/drills/cluster/test_volume_secrets.py runs it against real volumes):
which command reads the stored verifier in each state, and what the error says."""

from collections.abc import Sequence
from pathlib import Path

import pytest

from stacks.compose.volume_secrets import (
    PostgresVolume,
    env_conflicts,
    main,
    postgres_volume,
    read_stored_verifier,
    volume_problem,
)
from stacks.model import stack_topology
from tests.stacks.compose.test_stored_password import PASSWORD, SCRAM

PG = PostgresVolume(
    container="ha-dev-cluster-postgres",
    volume="ha-dev-cluster-postgres-data",
    data_dir="/var/lib/postgresql/data",
    image="ha-stack/postgres:latest",
    user="vector_probe",
)
SINGLE_USER_OUT = f"""
PostgreSQL stand-alone backend 15.10
backend> \t 1: rolpassword\t(typeid = 25, len = -1, typmod = -1, byval = f)
\t----
\t 1: rolpassword = "{SCRAM}"\t(typeid = 25, len = -1, typmod = -1, byval = f)
\t----
backend> """


class FakeDocker:
    """Answers the docker commands read_stored_verifier sends, for one state of the stack."""

    def __init__(self, *, volume: bool, running: bool, initialised: bool = True) -> None:
        self.volume, self.running, self.initialised = volume, running, initialised
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], stdin: str | None) -> tuple[int, str, str]:
        self.calls.append(list(argv))
        if argv[:2] == ["volume", "inspect"]:
            return (0, "[]", "") if self.volume else (1, "", "no such volume")
        if argv[0] == "inspect":
            return (0, "true\n", "") if self.running else (1, "", "no such container")
        if argv[0] == "exec":
            return 0, SCRAM + "\n", ""
        if argv[0] == "run":
            assert stdin is not None
            assert "rolname = 'vector_probe'" in stdin
            return (0, SINGLE_USER_OUT, "") if self.initialised else (3, "", "")
        raise AssertionError(f"unexpected docker {argv}")


def test_no_volume_means_nothing_to_check() -> None:
    docker = FakeDocker(volume=False, running=False)
    assert read_stored_verifier(PG, docker) is None
    assert len(docker.calls) == 1


def test_a_running_server_is_asked_with_psql_inside_its_container() -> None:
    docker = FakeDocker(volume=True, running=True)
    assert read_stored_verifier(PG, docker) == SCRAM
    assert docker.calls[-1][:2] == ["exec", PG.container]
    assert not any(call[0] == "run" for call in docker.calls)


def test_a_volume_alone_is_read_by_a_throwaway_single_user_container() -> None:
    docker = FakeDocker(volume=True, running=False)
    assert read_stored_verifier(PG, docker) == SCRAM
    run = docker.calls[-1]
    assert run[:3] == ["run", "--rm", "-i"]
    assert run[3:5] == ["--network", "none"]
    assert f"{PG.volume}:{PG.data_dir}" in run
    assert "postgres --single" in run[-1]


def test_a_volume_never_initialised_is_nothing_to_check() -> None:
    docker = FakeDocker(volume=True, running=False, initialised=False)
    assert read_stored_verifier(PG, docker) is None


def test_an_unreadable_volume_is_an_error_not_a_pass() -> None:
    def broken(argv: Sequence[str], stdin: str | None) -> tuple[int, str, str]:
        if argv[0] == "run":
            return 1, "", "FATAL:  database files are incompatible with server"
        return FakeDocker(volume=True, running=False)(argv, stdin)

    with pytest.raises(RuntimeError, match="incompatible with server"):
        read_stored_verifier(PG, broken)


def test_the_matching_password_passes() -> None:
    env = {"POSTGRES_PASSWORD": PASSWORD}
    assert volume_problem(PG, SCRAM, env, Path("configs/dev-cluster/.env"), "dev-cluster") is None
    assert volume_problem(PG, None, {}, Path("x/.env"), "dev-cluster") is None


def test_another_password_names_the_secret_the_volume_and_the_fix() -> None:
    env = {"POSTGRES_PASSWORD": "fresh-password"}
    problem = volume_problem(PG, SCRAM, env, Path("configs/dev-cluster/.env"), "dev-cluster")
    assert problem is not None
    assert problem.startswith("POSTGRES_PASSWORD: configs/dev-cluster/.env has another")
    assert "volume ha-dev-cluster-postgres-data was initialised with" in problem
    assert "Nothing was deployed" in problem
    assert "put the volume's password back as POSTGRES_PASSWORD" in problem
    assert "scripts/down dev-cluster --volumes" in problem
    missing = volume_problem(PG, SCRAM, {}, Path("configs/dev-cluster/.env"), "dev-cluster")
    assert missing is not None
    assert "has no POSTGRES_PASSWORD" in missing


def test_a_variant_env_with_other_secrets_conflicts() -> None:
    stack = {"REDIS_PASSWORD": "a", "POSTGRES_PASSWORD": "b", "METRICS_TOKEN": "c"}
    assert env_conflicts(stack, dict(stack)) == []
    assert env_conflicts(stack, {"POSTGRES_PASSWORD": "b"}) == []
    variant = {**stack, "POSTGRES_PASSWORD": "fresh", "METRICS_TOKEN": "new"}
    assert env_conflicts(stack, variant) == ["POSTGRES_PASSWORD", "METRICS_TOKEN"]


def test_the_model_names_the_data_volume_and_its_user() -> None:
    pg = postgres_volume(stack_topology("dev-cluster"))
    assert pg is not None
    assert (pg.container, pg.volume) == ("ha-dev-cluster-postgres", "ha-dev-cluster-postgres-data")
    assert (pg.data_dir, pg.user) == ("/var/lib/postgresql/data", "app")
    assert pg.image.startswith("ha-stack/postgres:")


def test_main_refuses_a_variant_env_and_a_wrong_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_env = tmp_path / "stack.env"
    stack_env.write_text("POSTGRES_PASSWORD=fresh-password\n")
    variant_env = tmp_path / "variant.env"
    variant_env.write_text("POSTGRES_PASSWORD=other\n")
    argv = ["dev-cluster", "--env-file", str(stack_env)]
    assert (
        main([*argv, "--variant-env", str(variant_env)], FakeDocker(volume=False, running=False))
        == 1
    )
    assert f"POSTGRES_PASSWORD: {variant_env} differs from {stack_env}" in capsys.readouterr().err
    assert main(argv, FakeDocker(volume=True, running=True)) == 1
    err = capsys.readouterr().err
    assert "volume ha-dev-cluster-postgres-data" in err
    assert main(argv, FakeDocker(volume=False, running=False)) == 0
