"""scripts/gen-env: generated secrets in a 0600 .env; existing values kept, never a name twice,
unsafe existing passwords refused with the variable named (issue 13, item 15).

The script runs as a subprocess; what compose will read is checked with compose's own reader
(python-dotenv, in the interpreter docker-compose runs on).
"""

import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from stacks.compose.envfile import main, parse_env, read_env_file
from stacks.model import SECRET_NAMES

ROOT = Path(__file__).resolve().parents[3]
GEN_ENV = ROOT / "scripts" / "gen-env"
# docker-compose 1.29 reads .env with python-dotenv on the system interpreter.
COMPOSE_PYTHON = "/usr/bin/python3"


def _gen_env(directory: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GEN_ENV), "dev", "--dir", str(directory)],
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
    )


def _as_compose_reads(path: Path) -> dict[str, str]:
    code = "import dotenv, json, sys; print(json.dumps(dotenv.dotenv_values(sys.argv[1])))"
    result = subprocess.run(
        [COMPOSE_PYTHON, "-c", code, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    values: dict[str, str] = json.loads(result.stdout)
    return values


def _names(path: Path) -> list[str]:
    """Every name the file assigns, repeats included."""
    return [entry.name for entry in parse_env(path.read_text())]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_is_private_with_every_secret_once(tmp_path: Path) -> None:
    result = _gen_env(tmp_path)
    env = tmp_path / ".env"
    assert "generated" in result.stdout
    assert _mode(env) == 0o600
    assert sorted(_names(env)) == sorted(SECRET_NAMES)
    values = _as_compose_reads(env)
    assert all(re.fullmatch(r"[0-9a-f]{48}", values[name]) for name in SECRET_NAMES)
    assert len(set(values.values())) == len(SECRET_NAMES)
    before = env.read_bytes()
    assert "kept as is" in _gen_env(tmp_path).stdout
    assert env.read_bytes() == before


def test_an_existing_0644_file_is_made_0600(tmp_path: Path) -> None:
    _gen_env(tmp_path)
    env = tmp_path / ".env"
    env.chmod(0o644)
    before = env.read_bytes()
    result = _gen_env(tmp_path)
    assert "mode 0644 -> 0600" in result.stdout
    assert _mode(env) == 0o600
    assert env.read_bytes() == before


def test_missing_secrets_are_added_once_and_existing_ones_kept(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    # Forms compose accepts: export, spaces around "=", quotes, a comment; no final newline.
    env.write_text(
        "# hand-written\n"
        "export REDIS_PASSWORD=chosen-by-hand-1\n"
        'POSTGRES_PASSWORD = "chosen-by-hand-2"  # for the database\n'
        "OTHER_SETTING=kept"
    )
    env.chmod(0o644)
    result = _gen_env(tmp_path)
    assert "generated REDIS_SENTINEL_PASSWORD, METRICS_TOKEN" in result.stdout
    assert "mode 0644 -> 0600" in result.stdout
    _gen_env(tmp_path)  # a second run adds nothing
    assert _mode(env) == 0o600
    names = _names(env)
    assert sorted(names) == sorted([*SECRET_NAMES, "OTHER_SETTING"])
    values = _as_compose_reads(env)
    assert values["REDIS_PASSWORD"] == "chosen-by-hand-1"
    assert values["POSTGRES_PASSWORD"] == "chosen-by-hand-2"
    assert values["OTHER_SETTING"] == "kept"
    assert read_env_file(env) == values
    assert env.read_text().startswith("# hand-written\nexport REDIS_PASSWORD=chosen-by-hand-1\n")


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("POSTGRES_PASSWORD=p@ss/word:with#url-chars", "POSTGRES_PASSWORD"),
        ("REDIS_PASSWORD='has space inside'", "REDIS_PASSWORD"),
        ("REDIS_SENTINEL_PASSWORD=short", "REDIS_SENTINEL_PASSWORD"),
        ("METRICS_TOKEN=", "METRICS_TOKEN"),
    ],
)
def test_an_unsafe_existing_secret_is_refused_naming_the_variable(
    tmp_path: Path, line: str, name: str
) -> None:
    env = tmp_path / ".env"
    env.write_text(f"{line}\n")
    before = env.read_bytes()
    result = _gen_env(tmp_path, check=False)
    assert result.returncode == 1
    assert f"{name} (line 1): a secret must be at least" in result.stderr
    value = line.split("=", 1)[1].strip("'")
    assert not value or value not in result.stderr + result.stdout  # never echoed
    assert env.read_bytes() == before  # nothing written


def test_a_name_set_twice_is_reported_and_not_repeated(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("REDIS_PASSWORD=first-value-1\nREDIS_PASSWORD=second-value-2\n")
    result = _gen_env(tmp_path)
    assert "REDIS_PASSWORD is set 2 times (lines [1, 2]); compose uses the last" in result.stderr
    assert _names(env).count("REDIS_PASSWORD") == 2
    assert _as_compose_reads(env)["REDIS_PASSWORD"] == "second-value-2"


def test_the_file_is_written_0600_whatever_the_umask(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", "-c", f"umask 000 && {GEN_ENV} dev --dir {tmp_path}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "generated" in result.stdout
    assert _mode(tmp_path / ".env") == 0o600
    assert not [p for p in os.listdir(tmp_path) if p != ".env"]  # no temporary file left


def test_dir_needs_exactly_one_stack(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(GEN_ENV), "dev", "prod", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--dir needs exactly one stack" in result.stderr


def test_the_reader_reads_what_compose_reads(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "# comment\n"
        "PLAIN=value  # trailing comment\n"
        "  export EXPORTED = spaced\n"
        "SINGLE='single # not a comment'\n"
        'DOUBLE="a \\"quoted\\" \\\\ value"\n'
        "EMPTY=\n"
        "NO_ASSIGNMENT\n"
        "PLAIN=again\n"
    )
    compose = {k: v for k, v in _as_compose_reads(env).items() if v is not None}
    assert read_env_file(env) == compose
    assert read_env_file(tmp_path / "missing") == {}


def test_main_in_process_refuses_then_completes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "REDIS_PASSWORD=chosen-by-hand-1\nREDIS_PASSWORD=chosen-by-hand-2\nMETRICS_TOKEN='a b'"
    )
    env.chmod(0o640)
    assert main(["dev", "--dir", str(tmp_path)]) == 1
    assert "METRICS_TOKEN (line 3)" in capsys.readouterr().err
    assert _mode(env) == 0o640  # refused: nothing changed
    env.write_text(env.read_text().replace("'a b'", "a-long-enough-token-0123"))
    assert main(["dev", "--dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "generated REDIS_SENTINEL_PASSWORD, POSTGRES_PASSWORD; mode 0640 -> 0600" in out
    assert "REDIS_PASSWORD is set 2 times" in err
    assert _names(env).count("METRICS_TOKEN") == 1


def test_env_files_are_git_ignored() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "configs/dev/.env", "configs/prod/.env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert ignored.stdout.split() == ["configs/dev/.env", "configs/prod/.env"]
