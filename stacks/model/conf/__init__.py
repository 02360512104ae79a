"""The config files the model's containers carry: redis.conf, sentinel.conf, prometheus.yml and
alerts.yml, as pure functions of the settings and the Layout.

Pulumi uploads these bytes into the containers; scripts/render writes the same bytes under
``configs/<stack>/`` for compose to bind-mount.
"""

from typing import Final

__all__ = ["HEADER"]

# The first line of every rendered file, compose's included.
HEADER: Final = (
    "# Rendered by scripts/render from the stack model; edit Pulumi.<stack>.yaml instead.\n"
)
