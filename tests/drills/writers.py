"""Writers the durability drills run inside the stack's containers, and the read-back afterwards.

- ``AppWriter``: a Python loop in an app container (``docker exec -i <app> python -c``) that writes
  through app_support exactly as the app does: plain ``SET`` through the failover client and
  ``SET`` + ``WAIT`` through ``confirmed_write_sync``, alternately; it prints every write it got an
  acknowledgement for.
- ``NodeWriter``: a bash loop of redis-cli calls inside one data node's container, on localhost
  (``SET`` + ``WAIT 1 <ms>`` on one connection): it keeps writing to that node when the node is cut
  off the network, which is the side a partition's losses come from.
- ``NodeProbe``: a bash loop in another container that asks one node ``INFO replication`` and
  tries a ``SET`` on it, from the first moment it answers: does it ever accept a write as master?
- ``missing_keys``: which acknowledged keys the current master no longer holds.

Each loop runs until the drill closes its stdin (or its own deadline passes), so a failed drill
never leaves a writer behind. Times are CLOCK_MONOTONIC, which containers share with the host.
"""

from __future__ import annotations

import itertools
import subprocess
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Self

from tests.infra.deployed import DeployedStack

__all__ = [
    "AppWriter",
    "NodeProbe",
    "NodeWriter",
    "Write",
    "WriteLog",
    "WriterLoop",
    "missing_keys",
]

# Bounds every writer process: a drill that hangs still ends its writers.
MAX_WRITER_SECONDS = 900

_APP_WRITER = """\
import sys, threading, time
from app_support.redis import RedisSettings, create_client
from app_support.redis.durability import Durability, confirmed_write_sync

prefix, limit = sys.argv[1], time.monotonic() + float(sys.argv[2])
settings = RedisSettings.from_env()
client = create_client(settings)
durability = Durability(1, settings.wait_timeout)
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
print("ready", flush=True)
for i in range(10**9):
    if stop.is_set() or time.monotonic() > limit:
        break
    kind = "c" if i % 2 else "p"
    key = f"{prefix}:{kind}:{i}"
    sent = time.monotonic()
    try:
        if kind == "p":
            client.set(key, i)
        else:
            confirmed_write_sync(client, key, ("SET", key, i), durability)
        print(f"A {kind} {key} {sent:.4f} {time.monotonic():.4f}", flush=True)
    except Exception as error:  # every failure is the drill's data, not the writer's end
        failed = f"{time.monotonic():.4f} {type(error).__name__}"
        print(f"E {kind} {key} {sent:.4f} {failed}", flush=True)
        time.sleep(0.02)
    time.sleep(0.005)  # ~150 writes a second: enough to see a gap, not a busy core
client.close()
"""

# $1 key prefix, $2 WAIT timeout (ms), $3 seconds at most. A line per write: "A c|p key sent done"
# (c: WAIT confirmed it), "E - key sent done reply". Stops when stdin closes.
_NODE_WRITER = r"""
prefix=$1 wait_ms=$2 limit=$(( $(date +%s) + $3 ))
echo ready
for ((i = 0; ; i++)); do
  read -r -t 0.001 _; rc=$?
  ((rc > 128)) || break          # 1: stdin closed; >128: no input yet
  (( $(date +%s) < limit )) || break
  key=$prefix:n:$i
  sent=$(cut -d' ' -f1 /proc/uptime)
  reply=$(printf 'SET %s %s\nWAIT 1 %s\n' "$key" "$i" "$wait_ms" \
    | timeout 5 redis-cli --no-auth-warning 2>&1 | tr -d '\r' | paste -sd' ')
  done_at=$(cut -d' ' -f1 /proc/uptime)
  case $reply in
    "OK 0") echo "A p $key $sent $done_at" ;;
    "OK "[1-9]*) echo "A c $key $sent $done_at" ;;
    *) echo "E - $key $sent $done_at ${reply// /_}" ;;
  esac
done
"""

# $1 node IP, $2 key prefix, $3 seconds at most. A line per attempt: "T role set-reply" (T: uptime).
_NODE_PROBE = r"""
ip=$1 prefix=$2 limit=$(( $(date +%s) + $3 ))
export REDISCLI_AUTH=$REDIS_PASSWORD
echo ready
for ((i = 0; ; i++)); do
  read -r -t 0.001 _; rc=$?
  ((rc > 128)) || break
  (( $(date +%s) < limit )) || break
  out=$(printf 'INFO replication\nSET %s:%s %s\n' "$prefix" "$i" "$i" \
    | timeout 2 redis-cli -h "$ip" --no-auth-warning 2>&1 | tr -d '\r')
  role=$(awk -F: '$1 == "role" { print $2 }' <<<"$out")
  link=$(awk -F: '$1 == "master_link_status" { print $2 }' <<<"$out")
  last=$(tail -n 1 <<<"$out")
  echo "$(cut -d' ' -f1 /proc/uptime) ${role:--} ${link:--} ${last// /_}"
  sleep 0.02
done
"""


def _uptime_offset() -> float:
    """host monotonic - /proc/uptime: the bash loops stamp lines with /proc/uptime (no Python in
    the redis image); both count from boot, so the offset is tiny but measured, not assumed."""
    with open("/proc/uptime") as uptime:
        up = float(uptime.read().split()[0])
    return time.monotonic() - up


@dataclass(frozen=True)
class Write:
    kind: str  # "p": plain, "c": WAIT-confirmed, "-": failed
    key: str
    sent: float
    done: float
    acknowledged: bool
    reply: str = ""


@dataclass
class WriteLog:
    """What a writer saw: every write, acknowledged or not."""

    writes: list[Write] = field(default_factory=list)

    def acknowledged(self, kind: str | None = None) -> list[Write]:
        return [w for w in self.writes if w.acknowledged and (kind is None or w.kind == kind)]

    def longest_gap(self, start: float, end: float) -> float:
        """Longest time within [start, end] with no write acknowledged (seconds)."""
        done = sorted(w.done for w in self.acknowledged() if start <= w.done <= end)
        return max(b - a for a, b in itertools.pairwise([start, *done, end]))


class _ContainerLoop:
    """A loop in a container, fed nothing on stdin until the drill ends it; lines parsed as read."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = list(argv)
        self.lines: list[str] = []
        self._ready = threading.Event()
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(60):
            self.stop()
            raise AssertionError(f"{self.argv[:4]} did not start: {self.lines[-5:]}")
        return self

    def _read(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.strip() == "ready":
                self._ready.set()
            else:
                self.lines.append(line.rstrip("\n"))

    def stop(self) -> None:
        """Close its stdin and wait (bounded) for it to end."""
        if self._process is None:
            return
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()  # or the pipe is an unclosed file (warnings are errors)

    def __exit__(self, *exc: object) -> None:
        self.stop()


class WriterLoop(_ContainerLoop):
    """A writer loop whose lines are ``A|E key value started ended [error]`` (acknowledged or
    failed): the drills' writers through app_support (standalone, Sentinel, Cluster, Swarm)."""

    @property
    def log(self) -> WriteLog:
        log = WriteLog()
        for line in list(self.lines):
            parts = line.split()
            if len(parts) >= 5 and parts[0] in ("A", "E"):
                log.writes.append(
                    Write(parts[1], parts[2], float(parts[3]), float(parts[4]), parts[0] == "A",
                          " ".join(parts[5:]))
                )  # fmt: skip
        return log


class AppWriter(WriterLoop):
    """Plain and WAIT-confirmed writes through app_support from inside an app container."""

    def __init__(self, stack: DeployedStack, service: str | None = None) -> None:
        service = service or stack.services("app", command="web")[0]
        self.prefix = f"drill:{uuid.uuid4().hex[:8]}"
        name = stack.spec(service).name
        script = ("python", "-c", _APP_WRITER, self.prefix, str(MAX_WRITER_SECONDS))
        super().__init__(["docker", "exec", "-i", name, *script])


class NodeWriter(_ContainerLoop):
    """SET + WAIT on localhost inside one data node's container (its side of a partition)."""

    def __init__(self, stack: DeployedStack, service: str, wait_ms: int = 200) -> None:
        self.prefix = f"drill:{uuid.uuid4().hex[:8]}"
        self._offset = _uptime_offset()
        name = stack.spec(service).name
        argv = ["bash", "-c", _NODE_WRITER, "node-writer", self.prefix, str(wait_ms)]
        super().__init__(["docker", "exec", "-i", name, *argv, str(MAX_WRITER_SECONDS)])

    @property
    def log(self) -> WriteLog:
        log = WriteLog()
        for line in list(self.lines):
            parts = line.split()
            if len(parts) >= 5 and parts[0] in ("A", "E"):
                sent, done = float(parts[3]) + self._offset, float(parts[4]) + self._offset
                log.writes.append(
                    Write(parts[1], parts[2], sent, done, parts[0] == "A", " ".join(parts[5:]))
                )
        return log


@dataclass(frozen=True)
class ProbeAnswer:
    at: float
    role: str  # master | slave | - (no answer)
    link: str  # master_link_status of a replica, or -
    set_reply: str


class NodeProbe(_ContainerLoop):
    """From another container, asks one node its role and tries a SET, again and again."""

    def __init__(self, stack: DeployedStack, target: str, via: str) -> None:
        self.prefix = f"drill:{uuid.uuid4().hex[:8]}"
        self._offset = _uptime_offset()
        ip, name = stack.spec(target).ip, stack.spec(via).name
        argv = ["bash", "-c", _NODE_PROBE, "node-probe", ip, self.prefix, str(MAX_WRITER_SECONDS)]
        super().__init__(["docker", "exec", "-i", name, *argv])

    @property
    def answers(self) -> list[ProbeAnswer]:
        found = []
        for line in list(self.lines):
            parts = line.split(maxsplit=3)
            if len(parts) == 4:
                at, role, link, reply = parts
                found.append(ProbeAnswer(float(at) + self._offset, role, link, reply))
        return found


_READ_BACK = """\
import sys
from app_support.redis import RedisSettings, create_client

client = create_client(RedisSettings.from_env())
keys = sys.stdin.read().split()
for start in range(0, len(keys), 500):
    chunk = keys[start:start + 500]
    for key, value in zip(chunk, client.mget(chunk)):
        if value is None:
            print(key)
client.close()
"""


def missing_keys(stack: DeployedStack, keys: Iterable[str], service: str | None = None) -> set[str]:
    """The keys the current master does not hold, read through app_support in an app container."""
    wanted = list(keys)
    if not wanted:
        return set()
    service = service or stack.services("app", command="web")[0]
    result = subprocess.run(
        ["docker", "exec", "-i", stack.spec(service).name, "python", "-c", _READ_BACK],
        input="\n".join(wanted),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"read-back failed: {result.stderr[-2000:]}"
    return set(result.stdout.split())
