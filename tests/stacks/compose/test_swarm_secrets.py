"""The Swarm stack file's secret files (stacks.compose.swarm_secrets) and the renderer's refusal
of a single-engine topology."""

import stat
from pathlib import Path

import pytest

from stacks.compose.envfile import EnvFileError, read_env_file
from stacks.compose.swarm import SECRETS_DIR, stack_document
from stacks.compose.swarm_secrets import main, write_secret_files
from stacks.model import SECRET_NAMES, stack_topology


def test_secret_files_hold_the_env_values_privately(tmp_path: Path) -> None:
    written = write_secret_files(tmp_path)  # no .env yet: made as scripts/gen-env makes it
    values = read_env_file(tmp_path / ".env")
    assert sorted(p.name for p in written) == sorted(SECRET_NAMES)
    for path in written:
        assert path.parent == tmp_path / SECRETS_DIR
        assert path.read_text() == values[path.name]  # no trailing newline
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # A second run keeps the values (the data volumes hold the passwords).
    assert [p.read_text() for p in write_secret_files(tmp_path)] == [
        values[p.name] for p in written
    ]


def test_a_secret_that_is_not_url_safe_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("POSTGRES_PASSWORD=p@ss/word\n")
    with pytest.raises(EnvFileError, match="POSTGRES_PASSWORD"):
        write_secret_files(tmp_path)
    assert not (tmp_path / SECRETS_DIR).exists()
    assert main(["prod-swarm", "--dir", str(tmp_path)]) == 1


def test_the_stack_file_renderer_refuses_a_single_engine_topology() -> None:
    with pytest.raises(ValueError, match="platform docker, not swarm"):
        stack_document(stack_topology("prod"))
