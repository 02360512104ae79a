"""The Pulumi program (under mocks) with app services pinned to another version, as
scripts/rollout runs it: only the pinned containers change image, and they run the image as it
is while the others keep the built image's id."""

from tests.stacks.mocked_program import FAKE_SECRETS, image_id, run_program

APP_IMAGE_ID = image_id("ha-prod-images-app")


def _images(overrides: dict[str, object] | None) -> dict[str, str]:
    declared = run_program("prod", overrides, FAKE_SECRETS)
    return {name: str(c.inputs["image"]) for name, c in declared.containers.items()}


def test_a_pinned_replica_runs_its_tag_and_nothing_else_changes() -> None:
    plain = _images(None)
    pinned = _images({"ha-stack:appImageTags": '{"app-0": "v2"}'})
    assert pinned["ha-prod-app-0"] == "ha-stack/app:v2"
    assert plain["ha-prod-app-0"] == APP_IMAGE_ID
    assert {n for n in plain if plain[n] != pinned[n]} == {"ha-prod-app-0"}


def test_rolling_back_to_the_built_version_runs_the_built_image_again() -> None:
    every = '{"app-0": "v2", "app-1": "v2", "app-2": "v2", "worker-0": "v2", "worker-1": "v2"}'
    moved = _images({"ha-stack:appImageTags": every})
    app = {n: i for n, i in moved.items() if "-app-" in n or "-worker-" in n}
    assert set(app.values()) == {"ha-stack/app:v2"}
    back = _images({"ha-stack:appImageTags": "{}"})
    assert {back[n] for n in app} == {APP_IMAGE_ID}
