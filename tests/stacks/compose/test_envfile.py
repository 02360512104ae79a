"""scripts/gen-env: generated secrets in a 0600 .env that is never overwritten."""

import re
import stat
import subprocess
from pathlib import Path

from stacks.compose.envfile import ensure_env_file
from stacks.model import SECRET_NAMES

ROOT = Path(__file__).resolve().parents[3]


def _values(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_generates_every_secret_once_and_keeps_existing_values(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    assert ensure_env_file(env) == list(SECRET_NAMES)
    first = _values(env)
    assert set(first) == set(SECRET_NAMES)
    assert all(re.fullmatch(r"[0-9a-f]{48}", value) for value in first.values())
    assert len(set(first.values())) == len(first)
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert ensure_env_file(env) == []
    assert _values(env) == first


def test_only_missing_secrets_are_appended(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("REDIS_PASSWORD=chosen-by-hand\n")
    assert ensure_env_file(env) == [n for n in SECRET_NAMES if n != "REDIS_PASSWORD"]
    assert _values(env)["REDIS_PASSWORD"] == "chosen-by-hand"


def test_script_writes_into_the_given_directory(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "gen-env"), "dev", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "generated" in result.stdout
    assert set(_values(tmp_path / ".env")) == set(SECRET_NAMES)


def test_env_files_are_git_ignored() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "configs/dev/.env", "configs/prod/.env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert ignored.stdout.split() == ["configs/dev/.env", "configs/prod/.env"]
