"""Cluster mode: how long one command keeps retrying when nobody said (apps outside the stacks).

A killed master's slots have no owner until its replica is promoted: after node-timeout the other
masters flag it ``PFAIL``, their failure reports reach a majority by gossip (up to another
node-timeout), the replica waits its election delay (0.5-1 s) and wins; the client then needs up to
a socket timeout to find the new owner. Measured: node-timeout + 1.9-4.1 s (benchmarks/RESULTS.md).
A deadline of 2 x node-timeout + 2 s covers that, so a normal failover fails no call.

The stacks set ``REDIS_RETRY_DEADLINE`` from their ``clusterNodeTimeoutMs`` the same way
(stacks.model.app_contract). An app configured by hand gives its servers' node-timeout in
``REDIS_CLUSTER_NODE_TIMEOUT`` (milliseconds; Redis's own default, 15000, when unset) and leaves
``REDIS_RETRY_DEADLINE`` unset; a keyword-built RedisSettings passes
``retry_deadline=cluster_retry_deadline(node_timeout)``.
"""

from __future__ import annotations

__all__ = ["DEFAULT_NODE_TIMEOUT", "MAX_DEADLINE", "cluster_retry_deadline"]

# Redis's default cluster-node-timeout (redis.conf), in seconds: what a cluster runs when its
# operator did not choose.
DEFAULT_NODE_TIMEOUT = 15.0
# The most REDIS_RETRY_DEADLINE accepts (app_support.redis.settings.MAX_TIMEOUT_MS), in seconds.
MAX_DEADLINE = 600.0


def cluster_retry_deadline(node_timeout: float = DEFAULT_NODE_TIMEOUT) -> float:
    """Seconds one command retries in cluster mode: 2 x ``node_timeout`` (seconds) + 2 s, at most
    MAX_DEADLINE. ValueError for a node-timeout that is not positive."""
    if not node_timeout > 0:
        raise ValueError(f"node_timeout must be positive seconds, not {node_timeout!r}")
    return min(2 * node_timeout + 2.0, MAX_DEADLINE)
