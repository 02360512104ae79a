"""pgbackrest.conf, PostgreSQL's archive settings and the backup alert, rendered from the settings.

The alert is run through ``promtool test rules`` on synthetic series: it fires once the newest
backup is older than the stack's limit, or when no backup metric exists at all.
"""

import configparser
import subprocess
import textwrap
from pathlib import Path

import yaml

from stacks.model import stack_settings, stack_topology
from stacks.model.conf.alerts import render_alert_rules
from stacks.model.conf.pgbackrest import (
    CONFIG_PATH,
    DATA_DIR,
    REPO_DIR,
    SOCKET_DIR,
    archive_arguments,
    render_pgbackrest_config,
)

PROMTOOL = "/usr/bin/promtool"


def _parsed(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser


def test_the_config_names_the_repository_retention_and_the_stack_s_cluster() -> None:
    settings = stack_settings("prod", {"ha-stack:postgresBackupRetention": 4})
    conf = _parsed(render_pgbackrest_config(settings))
    assert conf["global"]["repo1-path"] == REPO_DIR
    assert conf["global"]["repo1-retention-full"] == "4"
    assert conf["global"]["repo1-retention-full-type"] == "count"
    assert conf.sections() == ["global", "prod", "global:archive-push", "global:archive-get"]
    assert conf["global:archive-push"]["log-level-console"] == "warn"
    assert dict(conf["prod"]) == {
        "pg1-path": DATA_DIR,
        "pg1-socket-path": SOCKET_DIR,
        "pg1-user": "app",
    }


def test_postgres_archives_into_the_stanza_at_least_every_archive_timeout() -> None:
    settings = stack_settings("dev", {"ha-stack:postgresArchiveTimeout": "2m"})
    args = archive_arguments(settings)
    values = dict(arg.split("=", 1) for arg in args[1::2])
    assert args[0::2] == ("-c",) * 4
    assert values == {
        "wal_level": "replica",
        "archive_mode": "on",
        "archive_command": "pgbackrest --stanza=dev archive-push %p",
        "archive_timeout": "120s",
    }


def test_postgres_and_its_backup_container_share_data_socket_repository_and_config() -> None:
    topology = stack_topology("prod")
    postgres, backup = topology.container("postgres"), topology.container("postgres-backup")
    assert postgres.volumes == backup.volumes
    assert {m.path for m in backup.volumes} == {DATA_DIR, SOCKET_DIR, REPO_DIR}
    assert postgres.files[CONFIG_PATH] == backup.files[CONFIG_PATH]
    assert backup.image == postgres.image
    assert backup.user == postgres.user == "postgres"
    assert backup.command[:2] == ("postgres-backup", "serve")
    assert "--full-every=86400" in backup.command
    assert "--diff-every=3600" in backup.command
    assert backup.depends_on == ("postgres",)
    # Each volume once, protected in prod like every other data volume.
    names = [v.name for v in topology.volumes]
    assert len(names) == len(set(names))
    assert {"ha-prod-postgres-socket", "ha-prod-postgres-backup-data"} <= set(names)
    assert all(v.protect for v in topology.volumes)


def _alert_test(tmp_path: Path, series: str, expected: str) -> subprocess.CompletedProcess[str]:
    settings = stack_settings("prod")  # diff every 1 h: the limit is 2 h
    (tmp_path / "alerts.yml").write_text(render_alert_rules(settings))
    (tmp_path / "test.yml").write_text(
        textwrap.dedent(
            f"""\
            rule_files: [alerts.yml]
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
            {textwrap.indent(series, " " * 6)}
                alert_rule_test:
                  - eval_time: 190m
                    alertname: PostgresBackupTooOld
                    exp_alerts: {expected}
            """
        )
    )
    return subprocess.run(
        [PROMTOOL, "test", "rules", str(tmp_path / "test.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _timestamps(stopped_at_s: int) -> str:
    # The newest backup ended at ``stopped_at_s`` (Unix time, promtool's clock starts at 0).
    return (
        "- series: 'postgres_backup_last_success_timestamp_seconds{job=\"postgres-backup\"}'\n"
        f"  values: '{stopped_at_s}+0x200'\n"
    )


def test_the_alert_fires_when_the_newest_backup_is_older_than_twice_the_interval(
    tmp_path: Path,
) -> None:
    # At 190 min a backup from minute 0 is 3 h 10 min old: past 2 h for more than 10 min.
    fires = _alert_test(
        tmp_path,
        _timestamps(0),
        yaml.safe_dump(
            [
                {
                    "exp_labels": {"severity": "critical", "job": "postgres-backup"},
                    "exp_annotations": {
                        "summary": "No PostgreSQL base backup completed in the last 7200 s"
                        " (scripts/backup takes one now)"
                    },
                }
            ],
            default_flow_style=True,
            width=1000,
        ).strip(),
    )
    assert fires.returncode == 0, fires.stdout + fires.stderr


def test_the_alert_stays_quiet_while_backups_are_recent(tmp_path: Path) -> None:
    # A backup from minute 150 is 40 min old at minute 190.
    quiet = _alert_test(tmp_path, _timestamps(150 * 60), "[]")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr


def test_the_alert_fires_when_no_backup_metric_exists(tmp_path: Path) -> None:
    series = "- series: 'up{job=\"postgres-backup\"}'\n  values: '0+0x200'\n"
    summary = (
        "No PostgreSQL base backup completed in the last 7200 s (scripts/backup takes one now)"
    )
    fires = _alert_test(
        tmp_path,
        series,
        "[{exp_labels: {severity: critical, job: postgres-backup},"
        f" exp_annotations: {{summary: '{summary}'}}}}]",
    )
    assert fires.returncode == 0, fires.stdout + fires.stderr
