"""redis.conf and sentinel.conf for the stack's nodes.

No password appears here: the image entrypoint appends requirepass / masterauth / auth-pass from
the environment when the container starts.
"""

from stacks.model.conf import HEADER
from stacks.model.settings import RedisSettings

__all__ = ["render_cluster_node_conf", "render_redis_conf", "render_sentinel_conf"]

_COMMON = """\
port 6379
bind 0.0.0.0
protected-mode no
# No `dir`: data goes to the working directory, the /data volume (the entrypoint runs there).
appendonly yes
appendfsync everysec
# Queues and sessions live here: refuse writes rather than evict them.
maxmemory-policy noeviction
# A replica (re)joining after a failover gets its full sync at once, not after the default 5 s:
# in sentinel mode a master without its replica refuses writes, so those seconds count.
repl-diskless-sync-delay 0
"""


def render_redis_conf(
    *, ip: str, replica_of: str | None, mode: str, settings: RedisSettings | None = None
) -> str:
    """A standalone/sentinel-mode data node; ``replica_of`` is the master's address for replicas.

    ``ip`` is the address the node announces to Sentinels and replicas: its fixed IP on platform
    docker, its service name on platform swarm (Redis 7 announces and resolves hostnames).

    The mode line makes the file differ between modes, so the entrypoint remakes its writable copy
    when the stack switches mode (dropping a ``replicaof`` Sentinel wrote into the old copy).
    ``settings`` (sentinel mode) adds ``min-replicas-to-write`` / ``min-replicas-max-lag`` to every
    node, replicas too: a replica becomes master in a failover and must refuse writes no replica
    follows from its first moment as master.
    """
    role = "replica" if replica_of else "master"
    lines = [HEADER, f"# redisMode {mode}, {role}\n", _COMMON, f"replica-announce-ip {ip}\n"]
    if settings is not None:
        lines.append(
            "# A master refuses writes unless enough replicas acknowledged within the lag (s):\n"
            "# a master no replica follows (demoted, cut off, restarted alone) takes no writes.\n"
            f"min-replicas-to-write {settings.min_replicas_to_write}\n"
            f"min-replicas-max-lag {settings.min_replicas_max_lag_s}\n"
        )
    if replica_of is not None:
        lines.append(f"replicaof {replica_of} 6379\nreplica-read-only yes\n")
    return "".join(lines)


def render_cluster_node_conf(*, ip: str, node_timeout_ms: int) -> str:
    return (
        f"{HEADER}{_COMMON}"
        "cluster-enabled yes\n"
        "cluster-config-file nodes.conf\n"
        f"cluster-node-timeout {node_timeout_ms}\n"
        f"cluster-announce-ip {ip}\n"
        "cluster-announce-port 6379\n"
        "cluster-announce-bus-port 16379\n"
    )


_BY_IP = "sentinel resolve-hostnames no\nsentinel announce-hostnames no\n"
# Platform swarm fixes no addresses: Sentinels, data nodes and clients use service names. A name
# whose task is gone must fail to resolve at once (NXDOMAIN), or a Sentinel resolving it stalls
# and loops in TILT: the Swarm nodes' resolver answers unknown names at once (scripts/swarm).
_BY_NAME = (
    "# Service names, not IPs: Swarm fixes no addresses (the node's resolver answers NXDOMAIN\n"
    "# at once for a name whose task is gone, so a lookup never stalls a Sentinel into TILT).\n"
    "sentinel resolve-hostnames yes\n"
    "sentinel announce-hostnames yes\n"
)


def render_sentinel_conf(
    *, ip: str, master_ip: str, settings: RedisSettings, hostnames: bool = False
) -> str:
    """A Sentinel monitoring the master by IP (platform docker: a hostname vanishes from Docker's
    DNS when its container stops, and Docker's DNS then stalls the lookup), or with
    ``hostnames`` (platform swarm) by service name: ``ip`` and ``master_ip`` are then names."""
    name = settings.master_name
    return (
        f"{HEADER}"
        "port 26379\n"
        "bind 0.0.0.0\n"
        "protected-mode no\n"
        f"{_BY_NAME if hostnames else _BY_IP}"
        f"sentinel announce-ip {ip}\n"
        f"sentinel monitor {name} {master_ip} 6379 {settings.quorum}\n"
        f"sentinel down-after-milliseconds {name} {settings.down_after_ms}\n"
        f"sentinel failover-timeout {name} {settings.failover_timeout_ms}\n"
        f"sentinel parallel-syncs {name} {settings.parallel_syncs}\n"
    )
