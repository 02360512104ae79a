"""The durable record of a stack's app version (stacks.compose.rollout_state), on a temp dir."""

import json
from pathlib import Path

import pytest
import yaml

from stacks.compose.rollout_state import (
    RolloutRecord,
    after_rollout,
    compose_override,
    load_record,
    pinned_tags,
    rollback_target,
    save_record,
    uniform_tag,
    with_tag,
)

SERVICES = ["app-0", "app-1", "worker-0"]
DECLARED = dict.fromkeys(SERVICES, "latest")


def _record(tmp_path: Path) -> RolloutRecord:
    return load_record(tmp_path / "prod.json", "prod", SERVICES, DECLARED, "latest")


def test_without_a_file_every_service_runs_what_the_settings_declare(tmp_path: Path) -> None:
    record = _record(tmp_path)
    assert record.running == DECLARED
    assert record.previous is None
    assert uniform_tag(record) == "latest"
    assert pinned_tags(record) == {}


def test_the_record_survives_a_round_trip_and_follows_the_services(tmp_path: Path) -> None:
    path = tmp_path / "rollout" / "prod.json"
    saved = RolloutRecord("prod", "latest", {"app-0": "v2", "app-1": "latest", "gone": "x"}, "v1")
    save_record(path, saved)
    assert not list(path.parent.glob(".*partial"))
    # A service the file lacks runs what the settings say; one the stack lost is dropped.
    loaded = load_record(path, "prod", SERVICES, DECLARED, "latest")
    assert loaded.running == {"app-0": "v2", "app-1": "latest", "worker-0": "latest"}
    assert loaded.previous == "v1"
    assert uniform_tag(loaded) is None
    assert pinned_tags(loaded) == {"app-0": "v2"}


@pytest.mark.parametrize(
    ("content", "problem"),
    [("{not json", "not JSON"), ('{"stack": "dev"}', "not a rollout record of stack prod")],
)
def test_a_foreign_or_broken_file_is_refused_naming_it(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "prod.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=problem) as caught:
        load_record(path, "prod", SERVICES, DECLARED, "latest")
    assert str(path) in str(caught.value)


def test_a_completed_rollout_makes_the_old_version_the_one_to_roll_back_to(tmp_path: Path) -> None:
    before = _record(tmp_path)
    after = before
    for service in SERVICES:
        after = with_tag(after, service, "v2")
    done = after_rollout(before, after)
    assert rollback_target(done) == "latest"
    # The rollback is a rollout too: afterwards, a second rollback returns to v2.
    back = after_rollout(done, RolloutRecord("prod", "latest", DECLARED, done.previous))
    assert rollback_target(back) == "v2"


def test_a_rollout_stopped_at_its_first_replica_keeps_the_version_to_roll_back_to() -> None:
    before = RolloutRecord("prod", "latest", dict.fromkeys(SERVICES, "v2"), previous="latest")
    # app-0 went to "broken" and back to v2: nothing changed, previous neither.
    restored = with_tag(with_tag(before, "app-0", "broken"), "app-0", "v2")
    assert after_rollout(before, restored).previous == "latest"


def test_a_rollout_stopped_half_way_rolls_back_to_the_version_before_it() -> None:
    before = RolloutRecord("prod", "latest", dict.fromkeys(SERVICES, "v2"), previous="latest")
    # app-0 on v3, app-1 not ready on v3 and restored: rollback returns app-0 to v2.
    half = with_tag(before, "app-0", "v3")
    assert rollback_target(after_rollout(before, half)) == "v2"
    # From mixed versions (a rollout killed half-way) there is no one version to call old.
    assert after_rollout(half, with_tag(half, "app-1", "v3")).previous == "latest"


def test_rollback_without_a_recorded_version_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no previous app version recorded.*scripts/rollout"):
        rollback_target(_record(tmp_path))


def test_the_compose_override_pins_exactly_the_services_off_the_declared_version() -> None:
    record = RolloutRecord("prod", "latest", {"app-0": "v2", "app-1": "latest", "worker-0": "v2"})
    text = compose_override(record, "2.4")
    assert text.startswith("# Written by scripts/rollout from build/rollout/prod.json")
    assert yaml.safe_load(text) == {
        "version": "2.4",
        "services": {
            "app-0": {"image": "ha-stack/app:v2"},
            "worker-0": {"image": "ha-stack/app:v2"},
        },
    }
    # The same pins are the Pulumi program's ha-stack:appImageTags.
    assert json.dumps(pinned_tags(record)) == '{"app-0": "v2", "worker-0": "v2"}'
