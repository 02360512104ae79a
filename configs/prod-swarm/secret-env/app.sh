#!/bin/bash
# Rendered by scripts/render from the stack model; edit Pulumi.<stack>.yaml instead.
# Exports the service's secret variables from its Docker secrets, then runs its command.
set -euo pipefail
secret() { cat "/run/secrets/$1"; }
DATABASE_URL="postgresql://app:$(secret POSTGRES_PASSWORD)@postgres:5432/app"
METRICS_TOKEN="$(secret METRICS_TOKEN)"
REDIS_PASSWORD="$(secret REDIS_PASSWORD)"
REDIS_SENTINEL_PASSWORD="$(secret REDIS_SENTINEL_PASSWORD)"
export DATABASE_URL METRICS_TOKEN REDIS_PASSWORD REDIS_SENTINEL_PASSWORD
exec "$@"
