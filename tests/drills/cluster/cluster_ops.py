"""What the dev-cluster drills do to the deployed cluster stack and how they read it back.

Faults are Docker operations on the node containers; the cluster's state is read inside them
(redis-cli, tests.infra.cluster_nodes); writes and read-backs go through app_support inside the app
container (the app's own environment: REDIS_CLUSTER_NODES, REDIS_RETRY_DEADLINE, the password).
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from tests.drills.stack_ops import apps_healthy
from tests.drills.writers import MAX_WRITER_SECONDS, Write, WriterLoop
from tests.infra.cluster_nodes import ClusterNodeLine, cluster_info, cluster_nodes, data_nodes
from tests.infra.deployed import DeployedStack, wait_for

__all__ = [
    "ClusterWriter",
    "Promotion",
    "master_of_slot",
    "wait_cluster_converged",
    "wait_promoted",
    "wrong_or_missing",
]

# Inside the app container: a SET every 20 ms through app_support, keys spread over every slot (no
# hash tag); one line per call. Stops when stdin closes (or after argv[2] seconds).
_WRITER = """\
import sys, threading, time
from app_support.redis import RedisSettings, create_client

prefix, limit = sys.argv[1], time.monotonic() + float(sys.argv[2])
client = create_client(RedisSettings.from_env())
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
print("ready", flush=True)
i = 0
while not stop.is_set() and time.monotonic() < limit:
    key = f"{prefix}:{i}"
    sent = time.monotonic()
    try:
        client.set(key, str(i))
        print(f"A p {key} {sent:.4f} {time.monotonic():.4f}", flush=True)
    except Exception as error:  # every failure is the drill's data, not the writer's end
        print(f"E p {key} {sent:.4f} {time.monotonic():.4f} {type(error).__name__}", flush=True)
    i += 1
    time.sleep(0.02)
client.close()
"""

# Inside the app container: keys on stdin ("key value" lines); prints those missing or different.
_READ_BACK = """\
import sys
from app_support.redis import RedisSettings, create_client

client = create_client(RedisSettings.from_env())
pairs = [line.split() for line in sys.stdin.read().splitlines() if line.strip()]
for start in range(0, len(pairs), 500):
    chunk = pairs[start:start + 500]
    values = client.mget_nonatomic([key for key, _ in chunk])
    for (key, wanted), got in zip(chunk, values):
        if isinstance(got, bytes):
            got = got.decode()
        if got != wanted:
            print(key)
client.close()
"""


class ClusterWriter(WriterLoop):
    """SET every 20 ms across all slots through app_support inside an app container."""

    def __init__(self, stack: DeployedStack, service: str | None = None) -> None:
        service = service or stack.services("app", command="web")[0]
        self.prefix = f"cdrill:{uuid.uuid4().hex[:8]}"
        name = stack.spec(service).name
        script = ("python", "-c", _WRITER, self.prefix, str(MAX_WRITER_SECONDS))
        super().__init__(["docker", "exec", "-i", name, *script])


def wrong_or_missing(stack: DeployedStack, writes: Iterable[Write]) -> set[str]:
    """Acknowledged keys the cluster no longer holds with the written value (``<prefix>:<i>``
    holds ``i``), read through app_support in the app container."""
    lines = [f"{w.key} {w.key.rsplit(':', 1)[1]}" for w in writes]
    if not lines:
        return set()
    service = stack.services("app", command="web")[0]
    result = subprocess.run(
        ["docker", "exec", "-i", stack.spec(service).name, "python", "-c", _READ_BACK],
        input="\n".join(lines),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def _holds(node: ClusterNodeLine, slot: int) -> bool:
    for span in node.slots:
        if span.startswith("["):  # a slot being migrated
            continue
        low, _, high = span.partition("-")
        if int(low) <= slot <= int(high or low):
            return True
    return False


def master_of_slot(stack: DeployedStack, slot: int, via: str | None = None) -> str | None:
    """The data-node service that serves ``slot`` as master now (as ``via`` sees it), or None
    while no live master holds it."""
    via = via or data_nodes(stack)[0]
    for node in cluster_nodes(stack, via):
        if node.master and not node.failing and _holds(node, slot):
            return stack.redis_service_at(node.ip)
    return None


@dataclass(frozen=True)
class Promotion:
    new_master: str
    seen_at: float  # monotonic


def wait_promoted(stack: DeployedStack, slot: int, old: str, via: str, timeout: float) -> Promotion:
    """Poll until ``slot`` has a master other than ``old`` (as the node ``via`` sees it)."""

    def promoted() -> Promotion | None:
        try:
            master = master_of_slot(stack, slot, via)
        except AssertionError:  # the node asked is busy or restarting
            return None
        if master is not None and master != old:
            return Promotion(master, time.monotonic())
        return None

    return wait_for(f"slot {slot} served by a master other than {old}", promoted, timeout, 0.05)


def _converged(stack: DeployedStack) -> bool | None:
    for spec in stack.topology.containers:
        state = stack.inspect(spec.service)["State"]
        if spec.restart == "on-failure":  # the init job: done
            if state["Status"] != "exited" or state["ExitCode"] != 0:
                return None
            continue
        health = state.get("Health", {}).get("Status", "healthy")
        if not state["Running"] or health != "healthy":
            return None
    for service in data_nodes(stack):
        if cluster_info(stack, service).get("cluster_state") != "ok":
            return None
        nodes = cluster_nodes(stack, service)
        if len(nodes) != 6 or any(n.failing or n.link != "connected" for n in nodes):
            return None
        masters = [n for n in nodes if n.master and n.slots]
        if len(masters) != 3:
            return None
        if any(sum(n.master_id == m.node_id for n in nodes) != 1 for m in masters):
            return None
    return apps_healthy(stack) or None


def wait_cluster_converged(stack: DeployedStack, timeout: float = 180) -> None:
    """Wait until the cluster stack is whole: every service healthy, the init job done, every node
    sees six connected nodes, three masters with one replica each, and the app reports every
    dependency healthy."""

    def probe() -> bool | None:
        try:
            return _converged(stack)
        except AssertionError:  # a node restarting answers nothing for a moment
            return None

    wait_for(f"stack {stack.name} converged", probe, timeout=timeout, interval=1)
