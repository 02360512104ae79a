"""Run the real Pulumi program (stacks.program) under Pulumi's mocks and record what it declares.

``set_mocks(..., preview=False)`` with the real project and stack names: in preview mode unknown
outputs skip assertions silently. Config goes in the way the Pulumi CLI hands it over (strings,
lists as JSON), read from the committed ``Pulumi.<stack>.yaml``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import settings as runtime_settings

from stacks.model import read_stack_config
from stacks.program import StackResources, declare_stack, raw_config
from stacks.swarm_program import SwarmStackResources, declare_swarm_stack

__all__ = [
    "DYNAMIC",
    "FAKE_SECRETS",
    "REMOTE_IMAGE",
    "Declared",
    "MockedResource",
    "image_id",
    "image_ref",
    "pulumi_config",
    "run_program",
    "run_swarm_program",
]

DYNAMIC = "pulumi-python:dynamic:Resource"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"


def image_id(resource_name: str) -> str:
    """The id the mocked provider gives the RemoteImage ``resource_name``."""
    return f"sha256:{resource_name}"


def image_ref(image: str) -> str:
    """The reference (``ha-stack/app:latest``) a container's mocked image id was built as."""
    prefix = "sha256:ha-"
    if not image.startswith(prefix):
        return image
    directory = image.split("-images-", 1)[1]
    return f"ha-stack/{directory}:latest"


# Fixed values for the configured secrets, so compose (via .env) and Pulumi can be compared.
FAKE_SECRETS = {
    "ha-stack:redisPassword": "redis-pw-1",
    "ha-stack:redisSentinelPassword": "sentinel-pw-2",
    "ha-stack:postgresPassword": "postgres-pw-3",
    "ha-stack:metricsToken": "metrics-token-4-0123",  # the app wants 16+ in production
}
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value on the wire


@dataclass
class MockedResource:
    typ: str
    name: str
    inputs: dict[str, Any]
    opts: pulumi.ResourceOptions | None = None
    parent_type: str | None = None

    def plain(self, key: str) -> Any:
        """An input with the secret wrapper removed (the wire form is {SIG: ..., "value": v})."""
        value = self.inputs.get(key)
        if isinstance(value, dict) and SECRET_SIG in value:
            return value["value"]
        return value

    def is_secret(self, key: str) -> bool:
        value = self.inputs.get(key)
        return isinstance(value, dict) and SECRET_SIG in value


@dataclass
class Declared:
    resources: list[MockedResource]
    outputs: dict[str, Any]
    stack: StackResources | None = None
    swarm: SwarmStackResources | None = None
    env_secret: dict[str, bool] = field(default_factory=dict)
    # Whether each StackSecrets value, and the exported ``secrets`` output, is a secret Output.
    secret_values: dict[str, bool] = field(default_factory=dict)
    secret_outputs: dict[str, bool] = field(default_factory=dict)  # exported Outputs only

    def of_type(self, typ: str) -> dict[str, MockedResource]:
        return {r.name: r for r in self.resources if r.typ == typ}

    @property
    def containers(self) -> dict[str, MockedResource]:
        return self.of_type("docker:index/container:Container")

    @property
    def services(self) -> dict[str, MockedResource]:
        return self.of_type("docker:index/service:Service")


class _Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[MockedResource] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(MockedResource(args.typ, args.name, dict(args.inputs)))
        outputs = dict(args.inputs)
        if args.typ == DYNAMIC:
            outputs["value"] = f"generated-{args.name}"
        if args.typ == REMOTE_IMAGE:
            # The provider reports the built image's id; containers must run it by that id.
            outputs["imageId"] = image_id(args.name)
        return f"{args.name}-id", outputs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def pulumi_config(stack: str, overrides: Mapping[str, object] | None = None) -> dict[str, str]:
    """The stack's committed config as the Pulumi CLI passes it: every value a string."""

    def as_cli(value: object) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list | dict):
            return json.dumps(value)
        return str(value)

    merged = {**read_stack_config(stack), **(overrides or {})}
    return {key: as_cli(value) for key, value in merged.items()}


def _quiet_abandoned_futures(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # A program that fails (a test of bad config) leaves Pulumi's other resource futures holding
    # the same error; the test has seen it raised, so their garbage collection need not log it.
    if context.get("message") != "Future exception was never retrieved":
        loop.default_exception_handler(context)


def run_program(
    stack: str,
    overrides: Mapping[str, object] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> Declared:
    """Declare ``stack`` under mocks; ``secrets`` are set as secret config (else generated)."""
    return _run(stack, overrides, secrets, swarm=False)


def run_swarm_program(
    stack: str,
    overrides: Mapping[str, object] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> Declared:
    """Declare the platform swarm ``stack`` (stacks.swarm_program) under mocks."""
    return _run(stack, overrides, secrets, swarm=True)


def _run(
    stack: str,
    overrides: Mapping[str, object] | None,
    secrets: Mapping[str, str] | None,
    *,
    swarm: bool,
) -> Declared:
    recorder = _Recorder()
    # Pulumi's mocks run on the thread's current event loop; pytest-asyncio tests that ran earlier
    # in the session leave none set, so give each run its own.
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_quiet_abandoned_futures)
    asyncio.set_event_loop(loop)
    runtime_settings.ROOT.set(None)  # a fresh root Stack per run
    pulumi.runtime.set_mocks(recorder, project="ha-stack", stack=stack, preview=False)
    config = {**pulumi_config(stack, overrides), **(secrets or {})}
    pulumi.runtime.set_all_config(config, list(secrets or {}))
    options: dict[tuple[str, str], tuple[pulumi.ResourceOptions, str | None]] = {}

    def record(args: pulumi.ResourceTransformationArgs) -> None:
        parent = args.opts.parent if args.opts else None
        parent_type = getattr(parent, "_type", None) if parent is not None else None
        options[(args.type_, args.name)] = (args.opts, parent_type)

    pulumi.runtime.register_stack_transformation(record)
    declared = Declared(resources=recorder.resources, outputs={})

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> Awaitable[None]:
        resources: StackResources | SwarmStackResources
        if swarm:
            resources = declared.swarm = declare_swarm_stack(stack, raw_config())
        else:
            resources = declared.stack = declare_stack(stack, raw_config())

        async def secretness() -> None:
            if isinstance(resources, StackResources):
                groups = (resources.redis, resources.postgres, resources.monitoring, resources.app)
                for group in groups:
                    for service, container in group.containers.items():
                        declared.env_secret[service] = await container.envs.is_secret()
            for key, value in resources.secrets.values.items():
                declared.secret_values[key] = await value.is_secret()
            # Exported Outputs resolved (and whether each is secret), plain values as they are.
            root = runtime_settings.get_root_resource()
            for key, output in (getattr(root, "outputs", {}) or {}).items():
                if isinstance(output, pulumi.Output):
                    declared.secret_outputs[key] = await output.is_secret()
                    declared.outputs[key] = await output.future()
                else:
                    declared.outputs[key] = output

        # The test decorator awaits what the function returns, inside Pulumi's event loop.
        return asyncio.ensure_future(secretness())

    run()
    for resource in declared.resources:
        resource.opts, resource.parent_type = options.get(
            (resource.typ, resource.name), (None, None)
        )
    return declared
