"""scripts/rollout and scripts/rollback before anything changes: the status report, the record, and
the refusals (exit 2, a message naming the option or file and the fix). What they do to a running
stack is drilled against Docker (tests/drills/rollout)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks.compose.rollout_cli import EXIT_USAGE, main, record_path


def test_status_without_a_record_reports_the_declared_versions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "prod"], root=tmp_path) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["previous"] is None
    assert set(report["running"]) == {"app-0", "app-1", "app-2", "worker-0", "worker-1"}
    assert set(report["running"].values()) == {"latest"}


def test_status_reads_the_saved_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = record_path("dev", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"stack": "dev", "running": {"app-0": "v2"}, "previous": "latest"}))
    assert main(["status", "dev"], root=tmp_path) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["running"]["app-0"] == "v2"
    assert report["running"]["app-1"] == "latest"
    assert report["previous"] == "latest"


@pytest.mark.parametrize("tag", ["", "no spaces", "-leading-dash", "x" * 129])
def test_a_rollout_to_a_malformed_tag_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tag: str
) -> None:
    assert main(["rollout", "dev", f"--tag={tag}"], root=tmp_path) == EXIT_USAGE
    assert "--tag:" in capsys.readouterr().err
    assert not record_path("dev", tmp_path).exists()


def test_a_rollout_without_a_tag_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rollout", "dev"], root=tmp_path) == EXIT_USAGE
    assert "--tag: None is not an image tag" in capsys.readouterr().err


def test_a_rollback_with_no_earlier_version_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rollback", "dev"], root=tmp_path) == EXIT_USAGE
    assert capsys.readouterr().err.startswith("scripts/rollback: ")


def test_a_record_of_another_stack_is_refused_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = record_path("dev", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"stack": "prod", "running": {}}))
    assert main(["rollback", "dev"], root=tmp_path) == EXIT_USAGE
    assert f"{path}: not a rollout record of stack dev" in capsys.readouterr().err


def test_a_record_that_is_not_json_is_refused_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = record_path("dev", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{half")
    assert main(["status", "dev"], root=tmp_path) == EXIT_USAGE
    assert "delete it to start afresh" in capsys.readouterr().err


def test_a_rollout_to_an_image_the_engine_does_not_hold_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No engine runs during the unit tests, and none holds this tag: refused before any change.
    tag = "never-built-0123456789"
    assert main(["rollout", "dev", "--tag", tag], root=tmp_path) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"no image ha-stack/app:{tag} on this Docker engine" in err
    assert "docker tag ha-stack/app:latest" in err
    assert not record_path("dev", tmp_path).exists()


def test_an_unknown_stack_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "no-such-stack"], root=tmp_path) == EXIT_USAGE
    assert "no-such-stack" in capsys.readouterr().err
