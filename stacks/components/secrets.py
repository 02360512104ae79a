"""The stack's four secrets: from ``pulumi config set --secret`` when set, else generated.

Generated values are GeneratedSecret resources (a dynamic resource of our own) kept encrypted
in the stack state, so the first ``pulumi up`` needs no set-up and later runs keep the same
values. Alphanumeric only: they are embedded in DATABASE_URL and redis configs without escaping,
so configured ones are checked too. The program exports them (as one secret output, ``secrets``)
for the testinfra suites and drills: ``pulumi stack output --show-secrets --json``.
"""

import functools

import pulumi

from stacks.components.generated import GeneratedSecret
from stacks.model import SECRET_CONFIG_KEYS, check_secret_value

__all__ = ["StackSecrets"]


class StackSecrets(pulumi.ComponentResource):
    """``values`` maps secret names (REDIS_PASSWORD, ...) to secret Outputs."""

    values: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, config: pulumi.Config, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ha-stack:index:Secrets", name, None, opts)
        self.values = {}
        for key, secret in SECRET_CONFIG_KEYS.items():
            value = config.get_secret(key)
            if value is not None:
                # Fails the deployment with the key named, before any container gets the value.
                value = value.apply(functools.partial(check_secret_value, key))
            else:
                value = GeneratedSecret(
                    f"{name}-{key}", 32, opts=pulumi.ResourceOptions(parent=self)
                ).value
            # Secret whatever the source: a plain Output here would put the value in the
            # state and the CLI's output in clear text.
            self.values[secret] = pulumi.Output.secret(value)
        self.register_outputs({})
