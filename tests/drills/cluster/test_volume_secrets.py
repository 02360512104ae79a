"""Drill: scripts/up's check of the secrets against the existing PostgreSQL volume, on the deployed
dev-cluster stack's real volume: with the server running (psql in its container) and with only the
volume (postgres --single in a throwaway container), and a variant directory whose .env holds other
secrets is refused before anything is deployed.
"""

import os
import subprocess
from pathlib import Path

import pytest

from stacks.compose.envfile import read_env_file
from tests.drills.cluster.cluster_ops import wait_cluster_converged
from tests.infra.deployed import REPO_ROOT, DeployedStack

pytestmark = [pytest.mark.cluster_drill, pytest.mark.timeout(900)]


def _check(env_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "python"), "-m", "stacks.compose.volume_secrets",
         "dev-cluster", "--env-file", str(env_file)],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def _env_files(tmp_path: Path) -> tuple[Path, Path]:
    right = REPO_ROOT / "configs" / "dev-cluster" / ".env"
    values = read_env_file(right)
    wrong = tmp_path / "wrong.env"
    wrong.write_text("".join(f"{k}={v}\n" for k, v in values.items() if k != "POSTGRES_PASSWORD"))
    with wrong.open("a") as out:
        out.write("POSTGRES_PASSWORD=not-the-volumes-password\n")
    return right, wrong


def test_the_volume_password_is_checked_running_and_stopped(
    cluster: DeployedStack, tmp_path: Path
) -> None:
    right, wrong = _env_files(tmp_path)
    assert _check(right).returncode == 0
    refused = _check(wrong)
    assert refused.returncode == 1
    assert "volume ha-dev-cluster-postgres-data was initialised with" in refused.stderr
    postgres = cluster.spec("postgres").name
    cluster.docker("stop", postgres)
    try:
        stopped_right, stopped_wrong = _check(right), _check(wrong)
    finally:
        cluster.docker("start", postgres)
    assert stopped_right.returncode == 0, stopped_right.stderr
    assert stopped_wrong.returncode == 1, stopped_wrong.stderr
    assert "POSTGRES_PASSWORD: " in stopped_wrong.stderr
    wait_cluster_converged(cluster)


def test_a_variant_env_with_other_secrets_is_refused_before_deploying(
    cluster: DeployedStack, tmp_path: Path
) -> None:
    variant = tmp_path / "variant"
    subprocess.run(
        ["scripts/render", "dev-cluster", "--out", str(variant)],
        cwd=REPO_ROOT, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    _, wrong = _env_files(tmp_path)
    (variant / ".env").write_text(wrong.read_text())
    app = cluster.inspect("app-0")["Id"]
    result = subprocess.run(
        ["scripts/up", "dev-cluster", "--config-dir", str(variant), "--no-build", "--no-install"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=600,
        env={**os.environ, "HA_STACK_DEPLOYER": "compose"},
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"POSTGRES_PASSWORD: {variant / '.env'} differs from" in result.stderr
    assert cluster.inspect("app-0")["Id"] == app  # nothing was redeployed
