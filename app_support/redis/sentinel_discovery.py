"""Finding the master through Sentinel: which Sentinel to ask first, and a ROLE check on connect.

redis-py's ``Sentinel`` asks its Sentinels in order and trusts the first that answers. During a
failover they disagree for a while: in a ``SENTINEL FAILOVER`` the other Sentinels announce the
new master about a second *before* the leader does, and the leader keeps naming the old master
until it has reconfigured every replica. So:

- :class:`FollowingSentinel` / :class:`AsyncFollowingSentinel` ask ``preferred`` first when it is
  set: the Sentinel that announced the last switch (set by app_support.redis.sentinel_watch),
  which already knows the new master. A preferred Sentinel that fails to answer is forgotten, so
  a dead one costs at most one timeout.
- :class:`RoleCheckedConnection` / :class:`AsyncRoleCheckedConnection` (master pools only) send
  ``ROLE`` right after connecting and refuse a node that says ``slave``: a Sentinel that still
  names a node that was already turned into a replica costs a retry (ConnectionError, retried by
  the failover loop, which asks Sentinel again), not a READONLY answer on the first write.
  One round trip per new connection; pooled connections pay nothing per command.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.client import Redis as AsyncRedis
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.asyncio.sentinel import SentinelManagedConnection as AsyncSentinelManagedConnection
from redis.client import Redis
from redis.exceptions import ConnectionError, ResponseError, TimeoutError
from redis.sentinel import Sentinel, SentinelManagedConnection

__all__ = [
    "AsyncFollowingSentinel",
    "AsyncRoleCheckedConnection",
    "FollowingSentinel",
    "RoleCheckedConnection",
]

Address = tuple[str, int]


def _master_address(manager: Any, state: Any, service_name: str) -> Address | None:
    # The same test and address as redis-py's discover_master.
    if not state or not manager.check_master_state(state, service_name):
        return None
    forced = manager._force_master_ip  # redis-py keeps the option private
    return (forced if forced is not None else state["ip"], int(state["port"]))


class FollowingSentinel(Sentinel):
    """redis-py's ``Sentinel`` that asks ``preferred`` first (see the module docstring)."""

    preferred: Redis | None = None

    def discover_master(self, service_name: str) -> Address:
        """The master's address; raises MasterNotFoundError when no Sentinel names one."""
        preferred = self.preferred
        if preferred is not None:
            try:
                masters: Any = preferred.sentinel_masters()
                state = masters.get(service_name)
            except (ConnectionError, TimeoutError):
                state = None
            address = _master_address(self, state, service_name)
            if address is not None:
                return address
            if self.preferred is preferred:
                self.preferred = None
        found: Address = super().discover_master(service_name)  # type: ignore[no-untyped-call]
        return found


class AsyncFollowingSentinel(AsyncSentinel):
    """The asyncio twin of :class:`FollowingSentinel`."""

    preferred: AsyncRedis | None = None

    async def discover_master(self, service_name: str) -> Address:
        """The master's address; raises MasterNotFoundError when no Sentinel names one."""
        preferred = self.preferred
        if preferred is not None:
            try:
                amasters: Any = await preferred.sentinel_masters()
                state = amasters.get(service_name)
            except (ConnectionError, TimeoutError):
                state = None
            address = _master_address(self, state, service_name)
            if address is not None:
                return address
            if self.preferred is preferred:
                self.preferred = None
        found: Address = await super().discover_master(service_name)
        return found


def _refuse_unless_master(connection: Any, reply: Any) -> None:
    role = reply[0] if isinstance(reply, list | tuple) and reply else reply
    name = role.decode() if isinstance(role, bytes) else str(role)
    if name != "master":
        raise ConnectionError(
            f"{connection.host}:{connection.port} is a {name} now, not the master;"
            " asking Sentinel again"
        )


class RoleCheckedConnection(SentinelManagedConnection):
    """A Sentinel-managed connection that refuses a master-pool node whose ROLE is not master.

    Raises ConnectionError from ``connect()`` (redis-py then closes the socket).
    """

    def on_connect_check_health(self, check_health: bool = True) -> None:
        super().on_connect_check_health(check_health=check_health)
        if not self.connection_pool.is_master:
            return
        self.send_command("ROLE", check_health=False)  # type: ignore[no-untyped-call]
        try:
            reply = self.read_response()
        except ResponseError:
            return  # ROLE not allowed for this user: keep redis-py's behaviour
        _refuse_unless_master(self, reply)


class AsyncRoleCheckedConnection(AsyncSentinelManagedConnection):
    """The asyncio twin of :class:`RoleCheckedConnection`."""

    async def on_connect_check_health(self, check_health: bool = True) -> None:
        await super().on_connect_check_health(check_health=check_health)
        if not self.connection_pool.is_master:
            return
        await self.send_command("ROLE", check_health=False)
        try:
            reply = await self.read_response()
        except ResponseError:
            return  # ROLE not allowed for this user: keep redis-py's behaviour
        _refuse_unless_master(self, reply)
