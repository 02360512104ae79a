"""Follow a Sentinel failover the moment Sentinel announces it (``+switch-master``).

Why: redis-py asks Sentinel for the master only when it opens a connection, so pooled
connections keep writing to the old master until it refuses. After ``SENTINEL FAILOVER`` the old
master accepts writes for ~10 s (until Sentinel converts it into a replica) and the resync wipes
every one of them (issue 11).

One watcher per client (sentinel mode, master clients), one Sentinel connection:

- **Listens** to the ``+switch-master`` channel of ONE Sentinel (SUBSCRIBE). The payload is
  ``<name> <old-ip> <old-port> <new-ip> <new-port>``; messages for other master names are dropped.
- **On a switch of our master** it makes the announcing Sentinel the one discovery asks first
  (app_support.redis.sentinel_discovery: the failover leader names the old master for about a
  second longer than the others), points the pool at the new address, closes the idle
  connections and shuts down the sockets of the ones in use, marked to reconnect: a command in
  flight on the old master fails with a ConnectionError and the failover loop retries it on a
  fresh connection, so the next write goes to the new master. ``switches`` records each switch.
- **A dead Sentinel is skipped**: a connection error, or no reply to the PING sent every
  ``ping_every`` seconds within ``dead_after`` seconds (a frozen or cut-off Sentinel), and the
  watcher moves to the next Sentinel of the client's list (a full round that fails waits
  ``retry_pause``). After each (re)subscription it asks that Sentinel for the master and drops
  the pool's connections when the answer differs from the pool's address (a switch announced
  while it was not subscribed).
- **Starts** on the client's first command (``start()``; idempotent) and **stops** on
  ``close()`` / ``aclose()``: a stop flag checked between bounded waits (no read waits longer
  than ``poll`` seconds, Sentinel commands time out after the Sentinel socket timeout). It never
  relies on cancelling a task inside a redis-py call: redis-py 8.1 on Python 3.11 swallows a
  cancellation that arrives during a command. ``close()`` waits at most ``stop_wait`` seconds.

It uses two redis-py 8.1 internals, pinned by tests/app_support/redis/test_switch_follow.py: the
pool's in-use connection set and a connection's socket (``_sock`` / ``_writer``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from redis.asyncio.client import Redis as AsyncRedis
from redis.asyncio.sentinel import SentinelConnectionPool as AsyncSentinelPool
from redis.client import Redis
from redis.exceptions import ConnectionError, RedisError
from redis.sentinel import SentinelConnectionPool

from app_support.redis.sentinel_discovery import AsyncFollowingSentinel, FollowingSentinel

__all__ = ["CHANNEL", "AsyncSwitchWatcher", "Switch", "SwitchWatcher", "WatchTiming"]

log = logging.getLogger(__name__)

CHANNEL = "+switch-master"
Address = tuple[str, int]


@dataclass(frozen=True)
class Switch:
    """One switch the watcher acted on. ``at`` is ``time.monotonic()`` once the old master's
    connections were dropped: a command started after it runs on a fresh connection."""

    at: float
    old: Address
    new: Address
    sentinel: Address


@dataclass(frozen=True)
class WatchTiming:
    """Seconds: longest single wait (hence the stop latency), PING period, silence after which a
    Sentinel counts as dead, pause after a round in which no Sentinel could be subscribed."""

    poll: float = 0.5
    ping_every: float = 1.0
    dead_after: float = 3.0
    retry_pause: float = 0.5


def parse_switch(data: Any, master_name: str) -> tuple[Address, Address] | None:
    """``(old, new)`` from a ``+switch-master`` payload for ``master_name``, else None."""
    text = data.decode() if isinstance(data, bytes) else str(data)
    parts = text.split()
    if len(parts) != 5 or parts[0] != master_name:
        return None
    _name, old_ip, old_port, new_ip, new_port = parts
    if not (old_port.isdigit() and new_port.isdigit()):
        return None
    return (old_ip, int(old_port)), (new_ip, int(new_port))


def _address_of(sentinel: Redis | AsyncRedis) -> Address:
    kwargs = sentinel.connection_pool.connection_kwargs
    return (str(kwargs.get("host")), int(kwargs.get("port", 26379)))


def _stop_wait(timing: WatchTiming, sentinel_kwargs: dict[str, Any]) -> float:
    # One read slice plus one Sentinel command (connect + reply) in progress when close() came.
    timeout = float(sentinel_kwargs.get("socket_timeout") or 1.0)
    connect = float(sentinel_kwargs.get("socket_connect_timeout") or timeout)
    return timing.poll + timeout + connect + 0.5


class _Silence:
    """When to PING and when a Sentinel that stopped answering counts as dead."""

    def __init__(self, timing: WatchTiming) -> None:
        self.timing = timing
        self.heard = self.next_ping = time.monotonic()

    def ping_due(self, now: float) -> bool:
        if now < self.next_ping:
            return False
        self.next_ping = now + self.timing.ping_every
        return True

    def check(self, now: float, address: Address) -> None:
        if now - self.heard > self.timing.dead_after:
            raise ConnectionError(
                f"Sentinel {address[0]}:{address[1]} did not answer for {self.timing.dead_after} s"
            )


class _Rounds:
    """Logging without a flood: a lost subscription is a warning, a Sentinel that cannot be
    reached is debug, and a round in which none could be subscribed warns once until one can."""

    def __init__(self) -> None:
        self.subscribed = False
        self.warned = False

    def failed(self, address: Address, error: BaseException, *, subscribed: bool) -> None:
        if subscribed:
            self.subscribed, self.warned = True, False
            log.warning("lost Sentinel %s:%s (%s); trying the next one", *address, error)
        else:
            log.debug("Sentinel %s:%s: %s", *address, error)

    def ended(self, pause: float) -> None:
        if not self.subscribed and not self.warned:
            log.warning("no Sentinel could be subscribed to; trying again every %.1f s", pause)
            self.warned = True
        self.subscribed = False


class SwitchWatcher:
    """The sync watcher: a daemon thread (see the module docstring)."""

    def __init__(self, pool: SentinelConnectionPool, timing: WatchTiming | None = None) -> None:
        manager = pool.sentinel_manager
        if not isinstance(manager, FollowingSentinel):
            raise TypeError("SwitchWatcher needs a pool built by a FollowingSentinel")
        self.timing = timing or WatchTiming()
        self.master_name: str = pool.service_name
        self.switches: list[Switch] = []
        self.listening_to: Address | None = None
        self.stop_wait = _stop_wait(self.timing, manager.sentinel_kwargs)
        # Weak: a client dropped without close() ends its watcher instead of living on in it.
        self._pool = weakref.ref(pool)
        self._manager = manager
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start watching (once; a closed watcher stays closed)."""
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(
                target=self._run, name=f"sentinel-watch-{self.master_name}", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Ask the thread to stop, without waiting (it ends within ``stop_wait`` seconds)."""
        self._stop.set()

    def close(self) -> None:
        """Stop watching; returns within ``stop_wait`` seconds (the thread is a daemon)."""
        with self._lock:
            self._stop.set()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.stop_wait)

    def _run(self) -> None:
        rounds = _Rounds()
        while not self._stop.is_set():
            for sentinel in list(self._manager.sentinels):
                if self._stop.is_set() or self._pool() is None:
                    return
                address = _address_of(sentinel)
                try:
                    self._listen(sentinel, address)
                except (RedisError, OSError) as error:
                    rounds.failed(address, error, subscribed=self.listening_to is not None)
                finally:
                    self.listening_to = None
            rounds.ended(self.timing.retry_pause)
            self._stop.wait(self.timing.retry_pause)

    def _listen(self, sentinel: Redis, address: Address) -> None:
        pubsub = sentinel.pubsub()  # type: ignore[no-untyped-call]
        try:
            pubsub.subscribe(CHANNEL)
            self._reconcile(sentinel, address)
            self.listening_to = address
            silence = _Silence(self.timing)
            while not self._stop.is_set() and self._pool() is not None:
                message = pubsub.get_message(timeout=self.timing.poll)
                now = time.monotonic()
                if message is not None:
                    silence.heard = now
                    if message["type"] == "message":
                        self._on_message(message["data"], sentinel, address)
                if silence.ping_due(now):
                    pubsub.ping()
                silence.check(now, address)
        finally:
            with contextlib.suppress(RedisError, OSError):
                pubsub.close()

    def _reconcile(self, sentinel: Redis, address: Address) -> None:
        pool = self._pool()
        known = None if pool is None else pool.proxy.master_address
        if pool is None or known is None:
            return
        masters: Any = sentinel.sentinel_masters()
        state = masters.get(self.master_name)
        current = _named_master(self._manager, state, self.master_name)
        if current is not None and current != known:
            log.info("Sentinel %s:%s names %s, not %s: reconnecting", *address, current, known)
            pool.proxy.master_address = None
            _drop_sync(pool)

    def _on_message(self, data: Any, sentinel: Redis, address: Address) -> None:
        switch = parse_switch(data, self.master_name)
        pool = self._pool()
        if switch is None or pool is None:
            return
        old, new = switch
        self._manager.preferred = sentinel
        pool.proxy.master_address = new
        in_use = _drop_sync(pool)
        self.switches.append(Switch(time.monotonic(), old, new, address))
        log.info(
            "Sentinel %s:%s: %s switched from %s to %s; dropped the old connections (%d in use)",
            *address, self.master_name, old, new, in_use,
        )  # fmt: skip


class AsyncSwitchWatcher:
    """The asyncio watcher: a task on the loop of the client's first command."""

    def __init__(self, pool: AsyncSentinelPool, timing: WatchTiming | None = None) -> None:
        manager = pool.sentinel_manager
        if not isinstance(manager, AsyncFollowingSentinel):
            raise TypeError("AsyncSwitchWatcher needs a pool built by an AsyncFollowingSentinel")
        self.timing = timing or WatchTiming()
        self.master_name: str = pool.service_name
        self.switches: list[Switch] = []
        self.listening_to: Address | None = None
        self.stop_wait = _stop_wait(self.timing, manager.sentinel_kwargs)
        self._pool = weakref.ref(pool)
        self._manager = manager
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def started(self) -> bool:
        return self._task is not None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start watching in the running loop (once; a closed watcher stays closed)."""
        if self._task is not None or self._stopping:
            return
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"sentinel-watch-{self.master_name}"
        )

    async def aclose(self) -> None:
        """Stop watching; returns within ``stop_wait`` seconds."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        task = self._task
        if task is None or task.done():
            return
        if task.get_loop() is not asyncio.get_running_loop():
            return  # another loop's task: its stop flag is set, it ends on its own
        await asyncio.wait({task}, timeout=self.stop_wait)
        if not task.done():
            log.warning("the Sentinel watcher did not stop within %.1f s", self.stop_wait)

    async def _run(self) -> None:
        rounds = _Rounds()
        while not self._stopping:
            for sentinel in list(self._manager.sentinels):
                if self._stopping or self._pool() is None:
                    return
                address = _address_of(sentinel)
                try:
                    await self._listen(sentinel, address)
                except (RedisError, OSError) as error:
                    rounds.failed(address, error, subscribed=self.listening_to is not None)
                finally:
                    self.listening_to = None
            rounds.ended(self.timing.retry_pause)
            await self._pause(self.timing.retry_pause)

    async def _pause(self, seconds: float) -> None:
        assert self._wake is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _listen(self, sentinel: AsyncRedis, address: Address) -> None:
        pubsub = sentinel.pubsub()
        try:
            await pubsub.subscribe(CHANNEL)
            await self._reconcile(sentinel, address)
            self.listening_to = address
            silence = _Silence(self.timing)
            while not self._stopping and self._pool() is not None:
                message = await pubsub.get_message(timeout=self.timing.poll)
                now = time.monotonic()
                if message is not None:
                    silence.heard = now
                    if message["type"] == "message":
                        await self._on_message(message["data"], sentinel, address)
                if silence.ping_due(now):
                    await pubsub.ping()
                silence.check(now, address)
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _reconcile(self, sentinel: AsyncRedis, address: Address) -> None:
        pool = self._pool()
        known = None if pool is None else pool.master_address
        if pool is None or known is None:
            return
        masters: Any = await sentinel.sentinel_masters()
        state = masters.get(self.master_name)
        current = _named_master(self._manager, state, self.master_name)
        if current is not None and current != known:
            log.info("Sentinel %s:%s names %s, not %s: reconnecting", *address, current, known)
            pool.master_address = None
            await _drop_async(pool)

    async def _on_message(self, data: Any, sentinel: AsyncRedis, address: Address) -> None:
        switch = parse_switch(data, self.master_name)
        pool = self._pool()
        if switch is None or pool is None:
            return
        old, new = switch
        self._manager.preferred = sentinel
        pool.master_address = new
        in_use = await _drop_async(pool)
        self.switches.append(Switch(time.monotonic(), old, new, address))
        log.info(
            "Sentinel %s:%s: %s switched from %s to %s; dropped the old connections (%d in use)",
            *address, self.master_name, old, new, in_use,
        )  # fmt: skip


def _named_master(manager: Any, state: Any, name: str) -> Address | None:
    if not state or not manager.check_master_state(state, name):
        return None
    return (str(state["ip"]), int(state["port"]))


def _drop_sync(pool: SentinelConnectionPool) -> int:
    """Close idle connections; shut down (not close: another thread owns it) and mark the
    sockets in use. Returns how many were in use."""
    pool.disconnect(inuse_connections=False)
    # A copy taken under the pool lock.
    in_use = pool._get_in_use_connections()  # type: ignore[no-untyped-call]
    for connection in in_use:
        connection.mark_for_reconnect()
        sock = getattr(connection, "_sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
    return len(in_use)


async def _drop_async(pool: AsyncSentinelPool) -> int:
    """The asyncio twin of :func:`_drop_sync`: in-use transports are aborted, so the task
    using one reads end-of-stream (ConnectionError) and redis-py disconnects it."""
    in_use = list(pool._in_use_connections)  # one loop: nothing changes it meanwhile
    for connection in in_use:
        connection.mark_for_reconnect()  # type: ignore[no-untyped-call]
        writer = getattr(connection, "_writer", None)
        if writer is not None:
            writer.transport.abort()
    # A close that times out leaves that socket to be refused later (NOREPLICAS, READONLY).
    with contextlib.suppress(RedisError, OSError):
        await pool.disconnect(inuse_connections=False)
    return len(in_use)
