#!/bin/bash
# Rendered by scripts/render from the stack model; edit Pulumi.<stack>.yaml instead.
# Exports the service's secret variables from its Docker secrets, then runs its command.
set -euo pipefail
secret() { cat "/run/secrets/$1"; }
REDIS_PASSWORD="$(secret REDIS_PASSWORD)"
export REDIS_PASSWORD
exec "$@"
