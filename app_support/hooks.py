"""The per-call hook protocols, defined once (docs/architecture.md is the contract).

app_support.redis calls an ``on_command`` hook after every command, app_support.postgres an
``on_query`` hook after every query; app_support.metrics builds hooks that record them.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["CommandHook", "QueryHook"]


class CommandHook(Protocol):
    """``on_command`` of app_support.redis: called once per command (or once per pipeline, as
    ``PIPELINE``) after it finished.

    ``seconds`` covers the whole call including failover retries; ``failed`` is True when the
    call raised. An exception raised by the hook propagates to the caller.
    """

    def __call__(self, command: str, seconds: float, failed: bool) -> None: ...


class QueryHook(Protocol):
    """``on_query`` of app_support.postgres: called after every query with its operation
    (``select``, ``insert``, ...), its table (or ``other``), its duration and whether it raised.
    """

    def __call__(self, operation: str, table: str, seconds: float, failed: bool) -> None: ...
