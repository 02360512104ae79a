"""The backup settings: schedule, retention and archive timeout, each refused with the key named
and a value that would be accepted."""

import pytest

from stacks.model import StackConfigError, load_settings
from stacks.model.settings import BackupSettings


def _refused(raw: dict[str, object], key: str) -> StackConfigError:
    with pytest.raises(StackConfigError) as caught:
        load_settings("dev", raw)
    assert caught.value.key == f"ha-stack:{key}", caught.value
    # The suggested value is accepted.
    load_settings("dev", {**raw, f"ha-stack:{key}": caught.value.example})
    return caught.value


def test_defaults_full_daily_diff_hourly_two_fulls_kept_archive_every_minute() -> None:
    assert load_settings("dev", {}).backup == BackupSettings(
        full_every_s=86400, diff_every_s=3600, retention_full=2, archive_timeout_s=60
    )


def test_durations_in_seconds_minutes_hours_days_and_diff_off() -> None:
    backup = load_settings(
        "dev",
        {
            "ha-stack:postgresBackupFullEvery": "7d",
            "ha-stack:postgresBackupDiffEvery": "off",
            "ha-stack:postgresBackupRetention": "5",
            "ha-stack:postgresArchiveTimeout": "90s",
        },
    ).backup
    assert backup == BackupSettings(7 * 86400, 0, 5, 90)
    # Without differential backups the alert limit follows the full ones.
    assert backup.max_age_s == 14 * 86400
    hourly = load_settings("dev", {"ha-stack:postgresBackupFullEvery": "6h"}).backup
    assert hourly.full_every_s == 6 * 3600
    assert hourly.max_age_s == 2 * 3600


@pytest.mark.parametrize("value", ["1x", "10", "-1h", "1.5h", "0s", "off", ""])
def test_a_full_interval_that_is_not_a_duration_is_refused(value: str) -> None:
    error = _refused({"ha-stack:postgresBackupFullEvery": value}, "postgresBackupFullEvery")
    assert repr(value) in str(error)


def test_intervals_outside_their_range_are_refused() -> None:
    error = _refused({"ha-stack:postgresBackupFullEvery": "30s"}, "postgresBackupFullEvery")
    assert "30 s, outside 60 s" in str(error)
    _refused({"ha-stack:postgresBackupDiffEvery": "91d"}, "postgresBackupDiffEvery")
    _refused({"ha-stack:postgresArchiveTimeout": "2s"}, "postgresArchiveTimeout")
    _refused({"ha-stack:postgresBackupRetention": 0}, "postgresBackupRetention")


def test_differential_backups_must_come_more_often_than_full_ones() -> None:
    raw: dict[str, object] = {
        "ha-stack:postgresBackupFullEvery": "1h",
        "ha-stack:postgresBackupDiffEvery": "60m",
    }
    error = _refused(raw, "postgresBackupDiffEvery")
    assert "not more frequent than full backups" in str(error)
    assert error.example == "off"
