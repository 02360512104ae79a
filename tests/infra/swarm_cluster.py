"""The 3-node Swarm test cluster of scripts/swarm, as the Swarm suite and host-loss drill reach it.

Each node is a network namespace with its own dockerd; the docker CLI reaches node N through its
socket (``DOCKER_HOST``), and the host reaches node N's host-mode published ports at the node's
bridge address. ``scripts/swarm info`` names both, so these tests follow ``SWARM_NAME`` /
``SWARM_INDEX`` as the script does.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from functools import cached_property

from tests.infra.deployed import REPO_ROOT

__all__ = ["SWARM_SCRIPT", "ClusterDownError", "SwarmCluster", "SwarmNode"]

SWARM_SCRIPT = REPO_ROOT / "scripts" / "swarm"


class ClusterDownError(AssertionError):
    """The test cluster is not up: make it with scripts/swarm up (or run scripts/test-swarm)."""


@dataclass(frozen=True)
class SwarmNode:
    number: int  # 1..3, also its label ha-stack.node
    namespace: str
    address: str  # on the bridge: the host reaches the node's published ports here
    socket: str
    hostname: str


class SwarmCluster:
    """The cluster scripts/swarm made (``SWARM_NAME`` from the environment, as for the script)."""

    @cached_property
    def nodes(self) -> dict[int, SwarmNode]:
        """Node number -> node, from ``scripts/swarm info``; ClusterDownError when a node's
        daemon socket is missing."""
        result = subprocess.run(
            [str(SWARM_SCRIPT), "info"], capture_output=True, text=True, check=False, timeout=30
        )
        assert result.returncode == 0, f"scripts/swarm info: {result.stderr}"
        info = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        nodes = {
            n: SwarmNode(
                n,
                info[f"NODE{n}_NS"],
                info[f"NODE{n}_ADDR"],
                info[f"NODE{n}_SOCKET"],
                info[f"NODE{n}_HOSTNAME"],
            )
            for n in (1, 2, 3)
        }
        missing = [str(n) for n, node in nodes.items() if not os.path.exists(node.socket)]
        if missing:
            raise ClusterDownError(f"node(s) {', '.join(missing)} not up: run scripts/swarm up")
        return nodes

    def node_named(self, hostname: str) -> int:
        """The number of the node with Swarm hostname ``hostname``; AssertionError if none."""
        for number, node in self.nodes.items():
            if node.hostname == hostname:
                return number
        raise AssertionError(f"no node has hostname {hostname!r}")

    def docker_run(
        self, node: int, *args: str, timeout: float = 60, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The docker CLI against node ``node``'s daemon; the completed process (not checked).
        TimeoutExpired when it takes longer than ``timeout``."""
        env = {
            **os.environ,
            "DOCKER_HOST": f"unix://{self.nodes[node].socket}",
            "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE": "1",
        }
        return subprocess.run(
            ["docker", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            env=env,
        )

    def docker(self, node: int, *args: str, timeout: float = 60) -> str:
        """stdout of a docker CLI command on node ``node``; AssertionError (stderr) on failure."""
        result = self.docker_run(node, *args, timeout=timeout)
        assert result.returncode == 0, f"node {node}: docker {' '.join(args)}: {result.stderr}"
        return result.stdout

    def script(self, *args: str, timeout: float = 120) -> str:
        """Run ``scripts/swarm ARGS`` (cut, heal, stop-node, start-node, ...); its stdout.
        AssertionError with its output when it fails."""
        result = subprocess.run(
            [str(SWARM_SCRIPT), *args], capture_output=True, text=True, check=False, timeout=timeout
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"scripts/swarm {' '.join(args)}: {output}"
        return result.stdout

    def manager(self, exclude: frozenset[int] = frozenset()) -> int:
        """A node whose manager answers management calls now (a leader is elected); the first
        of 1..3 outside ``exclude``. AssertionError when none does."""
        for number in self.nodes:
            if number in exclude:
                continue
            try:
                result = self.docker_run(number, "node", "ls", "-q", timeout=15)
            except subprocess.TimeoutExpired:
                continue
            if result.returncode == 0:
                return number
        raise AssertionError(f"no manager answers (excluding {sorted(exclude)})")
