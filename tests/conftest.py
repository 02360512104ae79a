"""Shared pytest configuration.

Fixtures that start real servers live in tests/servers/ and are registered here, so every test
package (Redis, PostgreSQL, health, metrics, the reference app) reuses the same servers.
"""

pytest_plugins: list[str] = [
    "tests.servers.postgres_server",
    "tests.servers.redis_nodes",
]
