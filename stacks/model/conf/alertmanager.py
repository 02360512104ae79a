"""alertmanager.yml: one webhook receiver, grouping per alert, and inhibition of the alerts a
root cause brings along (amtool-checked in tests).

Notifications go to ``ha-stack:alertWebhookUrl`` when the stack sets it, otherwise to the stack's
own alert-receiver container, which records them (the drills read it to prove delivery).
"""

from typing import Any, Final

import yaml

from stacks.model.conf import HEADER
from stacks.model.layout import Layout

__all__ = [
    "ALERTMANAGER_PORT",
    "RECEIVER",
    "RECEIVER_PATH",
    "RECEIVER_PORT",
    "render_alertmanager_config",
    "webhook_url",
]

ALERTMANAGER_PORT: Final = 9093
RECEIVER_PORT: Final = 9095
RECEIVER_PATH: Final = "/alerts"
RECEIVER: Final = "webhook"

# Root causes and the alerts they bring along within the same stack: while the source fires,
# notifications of the targets are held back (the source's own notification says it all).
_INHIBITIONS: Final = (
    # The app's requests fail and slow down while Redis has no master (until the failover).
    ("RedisMasterDown", ("AppHighErrorRate", "AppHighLatency")),
    # Without PostgreSQL the app fails, and the exporter's connection count means nothing.
    ("PostgresDown", ("AppHighErrorRate", "AppHighLatency", "PostgresConnectionsNearMax")),
    # No quorum: a master that dies now stays down; the down alert already pages.
    ("RedisSentinelNoQuorum", ("RedisMasterChanged",)),
)


def webhook_url(layout: Layout) -> str:
    """Where notifications go: the stack's setting, or its own alert-receiver."""
    configured = layout.settings.alerting.webhook_url
    if configured:
        return configured
    return f"http://{layout.one('alert-receiver').ip}:{RECEIVER_PORT}{RECEIVER_PATH}"


def _inhibit_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {
            "source_matchers": [f'alertname="{source}"'],
            "target_matchers": [f'alertname=~"{"|".join(targets)}"'],
            "equal": ["stack"],
        }
        for source, targets in _INHIBITIONS
    ]
    # A critical alert holds back a warning of the same name on the same instance.
    rules.append(
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["stack", "alertname", "instance"],
        }
    )
    return rules


def render_alertmanager_config(layout: Layout) -> str:
    """The config of the stack's Alertmanager; its timings come from ``ha-stack:alertGroup*``."""
    alerting = layout.settings.alerting
    route: dict[str, Any] = {
        "receiver": RECEIVER,
        # One notification per alert name, carrying every instance that fires it.
        "group_by": ["stack", "alertname"],
        "group_wait": alerting.group_wait,
        "group_interval": alerting.group_interval,
        "repeat_interval": alerting.repeat_interval,
        "routes": [
            # Critical alerts (a node or a service down) are not held back to batch others.
            {
                "matchers": ['severity="critical"'],
                "receiver": RECEIVER,
                "group_wait": "0s",
            },
            {"matchers": ['severity="warning"'], "receiver": RECEIVER},
        ],
    }
    config = {
        "route": route,
        "receivers": [
            {
                "name": RECEIVER,
                "webhook_configs": [
                    {"url": webhook_url(layout), "send_resolved": True, "max_alerts": 0}
                ],
            }
        ],
        "inhibit_rules": _inhibit_rules(),
    }
    return HEADER + yaml.safe_dump(config, sort_keys=False, width=100)
