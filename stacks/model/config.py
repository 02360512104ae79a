"""Typed readers over the raw Pulumi config mapping (``{"ha-stack:redisMode": "sentinel", ...}``).

Pulumi hands every value over as a string (lists and maps as JSON), while a mapping read straight
from ``Pulumi.<stack>.yaml`` holds YAML scalars; the readers accept both. A mapping where a value
belongs (``appReplicas: {value: 0}``, or a non-secret key stored ``{secure: ...}``) is refused,
not ignored.
"""

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from typing import Final

from stacks.model.errors import StackConfigError

__all__ = ["PROJECT", "RFC1918", "ConfigReader"]

PROJECT: Final = "ha-stack"

_DURATION = re.compile(r"^[1-9][0-9]*(ms|s|m|h|d|w|y)$")
# RFC 1918: other "private" ranges (loopback, link-local, 100.64/10, 192.0.0/24, 198.18/15) are
# routed specially by the host or Docker and must not hold a stack's network.
RFC1918: Final = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


class ConfigReader:
    """Reads ``ha-stack:<name>`` keys with defaults; every bad value raises StackConfigError."""

    def __init__(self, raw: Mapping[str, object]) -> None:
        self._raw = raw

    @staticmethod
    def key(name: str) -> str:
        return f"{PROJECT}:{name}"

    def _value(self, name: str, example: str) -> object | None:
        """The raw value of ``name``; StackConfigError (with ``example``) for a mapping."""
        value = self._raw.get(self.key(name))
        if isinstance(value, Mapping):
            if set(value) == {"secure"}:
                problem = "is encrypted ({secure: ...}) but is not a secret setting: set it plainly"
            else:
                problem = f"{value!r} is a mapping where a single value belongs"
            raise StackConfigError(self.key(name), problem, example)
        return value

    def string(self, name: str, default: str, *, pattern: str, example: str) -> str:
        value = self._value(name, example)
        text = default if value is None else str(value)
        if not re.fullmatch(pattern, text):
            raise StackConfigError(self.key(name), f"{text!r} does not match {pattern}", example)
        return text

    def choice(self, name: str, default: str, choices: Sequence[str]) -> str:
        value = self._value(name, choices[0])
        text = default if value is None else str(value)
        if text not in choices:
            raise StackConfigError(
                self.key(name), f"{text!r} is not one of {', '.join(choices)}", choices[0]
            )
        return text

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        example = str(min(max(default, minimum), maximum))
        value = self._value(name, example)
        if value is None:
            number = default
        elif isinstance(value, bool):
            raise StackConfigError(self.key(name), f"{value!r} is not an integer", example)
        elif isinstance(value, int):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                raise StackConfigError(
                    self.key(name), f"{value!r} is not an integer", example
                ) from None
        if not minimum <= number <= maximum:
            raise StackConfigError(
                self.key(name), f"{number} is outside {minimum}..{maximum}", example
            )
        return number

    def boolean(self, name: str, default: bool) -> bool:
        value = self._value(name, "true")
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        raise StackConfigError(self.key(name), f"{value!r} is not true or false", "true")

    def duration(self, name: str, default: str, *, example: str) -> str:
        """A Prometheus duration such as ``15s`` or ``7d``."""
        return self.string(name, default, pattern=_DURATION.pattern, example=example)

    def string_list(self, name: str, default: Sequence[str], choices: Sequence[str]) -> list[str]:
        example = json.dumps(list(choices[:1]))
        value = self._value(name, f"'{example}'")
        items: list[str]
        if value is None:
            items = list(default)
        elif isinstance(value, list):
            items = [str(item) for item in value]
        else:
            text = str(value).strip()
            try:
                parsed = json.loads(text) if text.startswith("[") else text.split(",")
            except json.JSONDecodeError:
                raise StackConfigError(
                    self.key(name), f"{value!r} is not a list", f"'{example}'"
                ) from None
            if not isinstance(parsed, list):
                raise StackConfigError(self.key(name), f"{value!r} is not a list", f"'{example}'")
            items = [str(item).strip() for item in parsed if str(item).strip()]
        unknown = [item for item in items if item not in choices]
        if unknown:
            raise StackConfigError(
                self.key(name),
                f"{', '.join(unknown)} not among {', '.join(choices)}",
                f"'{example}'",
            )
        return items

    def ipv4_address(self, name: str, default: str) -> str:
        value = self._value(name, "127.0.0.1")
        text = default if value is None else str(value)
        try:
            return str(ipaddress.IPv4Address(text))
        except ValueError:
            raise StackConfigError(
                self.key(name), f"{text!r} is not an IPv4 address", "127.0.0.1"
            ) from None

    def ipv4_network(self, name: str, default: str, *, max_prefix: int) -> ipaddress.IPv4Network:
        """A private (RFC 1918) IPv4 network of ``/max_prefix`` or larger."""
        value = self._value(name, default)
        text = default if value is None else str(value)
        try:
            network = ipaddress.IPv4Network(text)
        except ValueError:
            raise StackConfigError(
                self.key(name), f"{text!r} is not an IPv4 network with no host bits", default
            ) from None
        if network.prefixlen > max_prefix or not any(network.subnet_of(n) for n in RFC1918):
            raise StackConfigError(
                self.key(name),
                f"{text} must be a private network (RFC 1918: inside 10.0.0.0/8, 172.16.0.0/12 "
                f"or 192.168.0.0/16) of /{max_prefix} or larger",
                default,
            )
        return network

    def unknown_keys(self, known: Sequence[str]) -> list[str]:
        prefix = f"{PROJECT}:"
        allowed = {self.key(name) for name in known}
        return sorted(k for k in self._raw if k.startswith(prefix) and k not in allowed)
