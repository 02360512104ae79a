"""A generated secret value kept in the stack's state: a small Pulumi dynamic resource.

Replaces pulumi-random's RandomPassword (one provider fewer to build): the value is made once,
when the resource is created, with :mod:`secrets`, stored encrypted in the state
(``additional_secret_outputs``) and kept by later ups, since nothing in its inputs changes.
Alphanumeric only: the values are embedded in DATABASE_URL and Redis configs without escaping.
"""

import secrets
import string
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider

__all__ = ["GeneratedSecret", "generate"]

ALPHABET = string.ascii_letters + string.digits


def generate(length: int) -> str:
    """``length`` random alphanumeric characters from the OS's CSPRNG."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


class _Provider(ResourceProvider):
    # Runs in Pulumi's dynamic-provider process, which imports this module by name (dill pickles
    # the class by reference): keep it importable from the installed package.
    def create(self, props: dict[str, Any]) -> CreateResult:
        length = int(props["length"])
        return CreateResult(secrets.token_hex(8), {"length": length, "value": generate(length)})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # Only a new length makes a new value; everything else keeps the stored one.
        changed = int(olds.get("length", 0)) != int(news["length"])
        return DiffResult(
            changes=changed, replaces=["length"] if changed else [], delete_before_replace=False
        )


class GeneratedSecret(Resource):
    """``value``: a secret Output holding the generated string."""

    value: pulumi.Output[str]

    def __init__(self, name: str, length: int, opts: pulumi.ResourceOptions | None = None) -> None:
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["value"])
        super().__init__(
            _Provider(),
            name,
            {"length": length, "value": None},
            pulumi.ResourceOptions.merge(opts, secret_opts),
        )
