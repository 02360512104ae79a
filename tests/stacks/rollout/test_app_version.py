"""The app's version in the stack settings: appImageTag and per-service appImageTags."""

import pytest

from stacks.model import StackConfigError, load_settings, stack_topology
from stacks.model.app_version import AppVersion, app_services


def _app_images(overrides: dict[str, object]) -> dict[str, str]:
    topology = stack_topology("prod", overrides)
    return {c.service: c.image for c in topology.containers if c.group == "app"}


def test_by_default_the_app_runs_the_kits_tag() -> None:
    images = _app_images({})
    assert set(images.values()) == {"ha-stack/app:latest"}
    assert list(images) == app_services(3, 2)
    topology = stack_topology("prod", {"ha-stack:imageTag": "r7"})
    assert {c.image.split(":")[1] for c in topology.containers} == {"r7"}


def test_app_image_tag_moves_the_app_alone() -> None:
    topology = stack_topology("prod", {"ha-stack:appImageTag": "v2"})
    app = {c.image for c in topology.containers if c.group == "app"}
    others = {c.image.split(":")[1] for c in topology.containers if c.group != "app"}
    assert (app, others) == ({"ha-stack/app:v2"}, {"latest"})
    # What the kit builds stays the kit's tag: the app's version is an image already there.
    assert topology.images["app"] == "ha-stack/app:latest"


@pytest.mark.parametrize(
    "given", ['{"app-0": "v2", "worker-1": "v2"}', {"app-0": "v2", "worker-1": "v2"}]
)
def test_app_image_tags_pin_single_services_as_the_cli_or_the_file_gives_them(
    given: object,
) -> None:
    images = _app_images({"ha-stack:appImageTags": given})
    assert images == {
        "app-0": "ha-stack/app:v2", "app-1": "ha-stack/app:latest", "app-2": "ha-stack/app:latest",
        "worker-0": "ha-stack/app:latest", "worker-1": "ha-stack/app:v2",
    }  # fmt: skip


def test_a_pin_on_the_stacks_own_tag_is_no_pin() -> None:
    settings = load_settings("dev", {"ha-stack:appImageTags": '{"app-0": "latest"}'})
    assert settings.images.app == AppVersion("latest")
    assert load_settings("dev", {"ha-stack:appImageTags": ""}).images.app == AppVersion("latest")


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("appImageTag", "v 2", "is not an image tag"),
        ("appImageTag", "-v2", "is not an image tag"),
        ("appImageTags", "{app-0: v2", "is not a JSON object"),
        ("appImageTags", '["app-0"]', "is not a map of app service to tag"),
        ("appImageTags", '{"app-0": "v 2"}', "is not an image tag"),
        ("appImageTags", '{"app-0": {"tag": "v2"}}', "is not an image tag"),
        ("appImageTags", '{"app-5": "v2"}', "'app-5' is not an app service of this stack"),
        ("appImageTags", '{"postgres": "v2"}', "app-0, app-1, worker-0"),
    ],
)
def test_bad_app_versions_are_refused_naming_the_key(key: str, value: str, problem: str) -> None:
    with pytest.raises(StackConfigError) as caught:
        load_settings("dev", {f"ha-stack:{key}": value})
    assert caught.value.key.startswith(f"ha-stack:{key}")
    assert problem in caught.value.problem
    # The example offered is accepted.
    assert (
        load_settings("dev", {"ha-stack:appImageTags": '{"app-0": "v2"}'}).images.app.tag_of(
            "app-0"
        )
        == "v2"
    )
