"""scripts/render: variants into another directory, stale files removed, config errors reported."""

import subprocess
from pathlib import Path

import pytest

from stacks.compose.cli import main

ROOT = Path(__file__).resolve().parents[3]


def test_render_a_variant_elsewhere_and_switch_modes(tmp_path: Path) -> None:
    assert main(["dev", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "sentinel" / "sentinel-2.conf").is_file()
    assert main(["dev", "--set", "ha-stack:redisMode=standalone", "--out", str(tmp_path)]) == 0
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == [
        "alertmanager/alertmanager.yml",
        "docker-compose.yml",
        "grafana/dashboards/ha-stack.json",
        "grafana/provisioning/dashboards/ha-stack.yml",
        "grafana/provisioning/datasources/ha-stack.yml",
        "pgbackrest/pgbackrest.conf",
        "prometheus/alerts.yml",
        "prometheus/consoles/ha-stack.html",
        "prometheus/prometheus.yml",
        "redis/redis-0.conf",
    ]


def test_bad_config_is_reported_with_the_key(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "render"), "dev", "--set", "ha-stack:sentinelQuorum=5",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "ha-stack:sentinelQuorum" in result.stderr
    assert not any(tmp_path.iterdir())


def test_bad_config_and_bad_arguments_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dev", "--set", "ha-stack:appHostPort=65530", "--set", "ha-stack:appReplicas=9",
                 "--out", str(tmp_path)]) == 2  # fmt: skip
    assert "ha-stack:appHostPort: app replicas 0..8" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["dev", "--set", "redisMode=standalone"])
    assert exited.value.code == 2
    assert "is not ha-stack:KEY=VALUE" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["dev", "prod", "--out", str(tmp_path)])
    assert "--out needs exactly one stack" in capsys.readouterr().err
