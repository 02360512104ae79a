"""Cluster mode: waiting out a master the cluster itself flags as failing.

A killed master's slots have no owner until its replica wins the election (node-timeout, the
failure reports' gossip, the election delay). A node that vanished answers nothing, so every
attempt on it costs a connect or socket timeout, and a retry that is blocked on it when the replica
is promoted only moves on when that timeout ends (up to ``REDIS_SOCKET_TIMEOUT`` late).

So before a retry the cluster clients (app_support.redis.clients / aclients) ask another master's
``CLUSTER NODES`` about the node the command failed on. While that node is flagged failing
(``fail?`` or ``fail``) and still holds slots, the retry does not go to it: it asks again every
``FOLLOW_POLL`` seconds, and stops as soon as the node holds no slot (its replica was promoted),
is no longer flagged (it came back) or the command's deadline has passed; then the slot map is
read again and the command retried without the usual pause. A node no other node flags is retried
after the pause, as before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.exceptions import ConnectionError, TimeoutError

from app_support.redis.cluster_topology import parse_cluster_nodes

__all__ = ["FOLLOW_POLL", "FailedNode", "failed_node_name", "failing_with_slots"]

# How often a waiting retry asks whether the failing node still holds slots: well under the ~0.5-1 s
# election delay, one small reply from a live master per waiting command.
FOLLOW_POLL = 0.1


def failed_node_name(error: BaseException) -> str | None:
    """``host:port`` of the node a connection error or timeout happened on (redis-py attaches the
    connection or the cluster node to the error), else None."""
    if not isinstance(error, ConnectionError | TimeoutError):
        return None
    target = getattr(error, "connection", None)
    host, port = getattr(target, "host", None), getattr(target, "port", None)
    if isinstance(host, str) and host and port is not None:
        return f"{host}:{port}"
    return None


@dataclass
class FailedNode:
    """One command's deadline and the node its last attempt failed on (None: not a node fault)."""

    give_up_at: float
    name: str | None = None

    @classmethod
    def for_deadline(cls, deadline: float) -> FailedNode:
        return cls(time.monotonic() + deadline)

    def note(self, error: BaseException) -> None:
        self.name = failed_node_name(error)

    def waiting(self) -> bool:
        """True while there is a failed node and time left before the command's deadline."""
        return self.name is not None and time.monotonic() < self.give_up_at


def failing_with_slots(reply: object, name: str) -> bool:
    """Whether ``CLUSTER NODES`` (raw text, or redis-py's parsed mapping) flags the node ``name``
    (``host:port``) as failing while it still holds slots. False when it does not list it."""
    for address, flags, slots in _nodes(reply):
        if address == name:
            failing = "fail" in flags or "fail?" in flags
            return failing and bool(slots)
    return False


def _nodes(reply: object) -> list[tuple[str, set[str], list[object]]]:
    """(``host:port``, flags, slots) per node of a ``CLUSTER NODES`` reply."""
    return [(n.address, set(n.flags), list(n.slots)) for n in parse_cluster_nodes(reply)]
