"""Settings for the pool tests: small pools on the session PostgreSQL server."""

from __future__ import annotations

import dataclasses

import pytest

from app_support.postgres import DatabaseSettings
from tests.servers.postgres_server import PostgresServer


@pytest.fixture
def small_settings(postgres_server: PostgresServer) -> DatabaseSettings:
    """Three connections at most, short waits: exhaustion and recovery show up quickly."""
    settings = DatabaseSettings.from_env(postgres_server.environ, application_name="pg-tests")
    return dataclasses.replace(
        settings, max_size=3, min_size=1, acquire_timeout=2.0, retry_backoff=0.1
    )
