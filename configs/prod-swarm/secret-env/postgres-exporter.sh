#!/bin/bash
# Rendered by scripts/render from the stack model; edit Pulumi.<stack>.yaml instead.
# Exports the service's secret variables from its Docker secrets, then runs its command.
set -euo pipefail
secret() { cat "/run/secrets/$1"; }
DATA_SOURCE_NAME="postgresql://app:$(secret POSTGRES_PASSWORD)@postgres:5432/app?sslmode=disable"
export DATA_SOURCE_NAME
exec "$@"
