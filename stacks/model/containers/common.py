"""Pieces several container groups share: published ports and the exporters' TCP health check."""

from stacks.model.layout import Layout
from stacks.model.spec import Healthcheck, PortSpec

__all__ = ["published", "tcp_check"]


def published(layout: Layout, service: str, host_port: int, port: int) -> tuple[PortSpec, ...]:
    """``port`` published on the host's ``host_port`` when the stack publishes ``service``."""
    publish = layout.settings.publish
    if service not in publish.services:
        return ()
    return (PortSpec(publish.address, host_port, port),)


def tcp_check(port: int) -> Healthcheck:
    # Exporter images carry no HTTP client; bash's /dev/tcp proves the port accepts connections.
    return Healthcheck(argv=("bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"))
