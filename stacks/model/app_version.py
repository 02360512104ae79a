"""The app's version: the image tag its web replicas and workers run.

``ha-stack:appImageTag`` is the stack's declared app version (default: ``ha-stack:imageTag``, the
tag every other image of the kit carries). ``ha-stack:appImageTags`` maps single app services
(``app-0``, ``worker-1``, ...) to another tag: what ``scripts/rollout`` passes while it replaces
one replica at a time (docs/recovery.md, "Rolling updates and rollback"). Pulumi hands a map over
as a JSON string; a mapping read straight from ``Pulumi.<stack>.yaml`` is accepted too.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from stacks.model.errors import StackConfigError

__all__ = [
    "APP_IMAGE",
    "TAG_PATTERN",
    "AppVersion",
    "app_services",
    "check_app_version",
    "read_app_version",
]

APP_IMAGE: Final = "ha-stack/app"
# Docker's tag grammar: a word character, then up to 127 word characters, dots and dashes.
TAG_PATTERN: Final = r"[\w][\w.-]{0,127}"
_TAG_KEY: Final = "ha-stack:appImageTag"
_TAGS_KEY: Final = "ha-stack:appImageTags"
_TAGS_EXAMPLE: Final = '\'{"app-0": "v2"}\''


@dataclass(frozen=True)
class AppVersion:
    """``tag`` for every app service, except those ``replicas`` (service -> tag) name."""

    tag: str = "latest"
    replicas: tuple[tuple[str, str], ...] = ()

    def tag_of(self, service: str) -> str:
        return dict(self.replicas).get(service, self.tag)

    def image(self, service: str) -> str:
        """The image reference ``service`` runs, e.g. ``ha-stack/app:v2``."""
        return f"{APP_IMAGE}:{self.tag_of(service)}"


def app_services(web_replicas: int, workers: int) -> list[str]:
    """The app's services in rollout order: web replicas, then workers."""
    return [f"app-{i}" for i in range(web_replicas)] + [f"worker-{i}" for i in range(workers)]


def _tag(key: str, value: object) -> str:
    text = str(value).strip()
    if isinstance(value, bool | Mapping | list) or not re.fullmatch(TAG_PATTERN, text):
        raise StackConfigError(key, f"{value!r} is not an image tag ({TAG_PATTERN})", "v2")
    return text


def _tag_map(value: object) -> dict[str, object]:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError:
            raise StackConfigError(
                _TAGS_KEY, f"{value!r} is not a JSON object", _TAGS_EXAMPLE
            ) from None
    if not isinstance(value, Mapping):
        raise StackConfigError(
            _TAGS_KEY, f"{value!r} is not a map of app service to tag", _TAGS_EXAMPLE
        )
    return {str(key): item for key, item in value.items()}


def read_app_version(raw: Mapping[str, object], default_tag: str) -> AppVersion:
    """``appImageTag`` (default ``default_tag``) and ``appImageTags``; StackConfigError for a
    value that is not a tag or a map of tags (the services are checked by check_app_version)."""
    value = raw.get(_TAG_KEY)
    tag = default_tag if value is None else _tag(_TAG_KEY, value)
    given = raw.get(_TAGS_KEY)
    replicas = _tag_map(given) if given is not None else {}
    pinned = {service: _tag(f"{_TAGS_KEY}.{service}", item) for service, item in replicas.items()}
    # A replica pinned to the stack's own tag is no exception: leave it out, so the same
    # deployment always reads as the same settings.
    return AppVersion(tag, tuple(sorted((s, t) for s, t in pinned.items() if t != tag)))


def check_app_version(version: AppVersion, web_replicas: int, workers: int) -> None:
    """StackConfigError when ``appImageTags`` names a service the stack does not run."""
    services = app_services(web_replicas, workers)
    for service, _ in version.replicas:
        if service not in services:
            raise StackConfigError(
                _TAGS_KEY,
                f"{service!r} is not an app service of this stack ({', '.join(services)})",
                _TAGS_EXAMPLE,
            )
