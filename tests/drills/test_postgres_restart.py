"""Fault drill: PostgreSQL restarts under load; the app recovers alone, no import lost or doubled.

Run against the deployed dev stack (scripts/up dev): pytest tests/drills -m drill.
"""

import time
from typing import Any

import pytest

from tests.drills.app_client import LOAD_PACE_S, AppClient, ImportLoad, Probe, longest_gap
from tests.drills.stack_ops import assert_imported_exactly_once, wait_converged
from tests.infra.deployed import DeployedStack, wait_for

pytestmark = [pytest.mark.drill, pytest.mark.timeout(900)]


def _app_processes(dev: DeployedStack) -> dict[str, tuple[Any, Any]]:
    """(StartedAt, RestartCount) of every app container: unchanged means not restarted."""
    return {
        service: (info["State"]["StartedAt"], info["RestartCount"])
        for service in dev.services("app")
        for info in [dev.inspect(service)]
    }


def test_postgres_restart_the_app_recovers_without_a_restart(
    dev: DeployedStack, clients: list[AppClient], figures: dict[str, str]
) -> None:
    before = _app_processes(dev)
    postgres = dev.spec("postgres").name
    # GET /api/imports reads PostgreSQL on every call and is not rate limited.
    with Probe(clients[0], "/api/imports") as probe, ImportLoad(clients) as load:
        time.sleep(2 * LOAD_PACE_S)
        restarted_at = time.monotonic()
        dev.docker("restart", "--time", "10", postgres)
        wait_for(
            "the app reading PostgreSQL again",
            lambda: any(o.status == 200 and o.sent > restarted_at for o in probe.outcomes) or None,
            timeout=120,
        )
        wait_for(
            "an upload accepted after the restart",
            lambda: any(o.status == 202 and o.sent > restarted_at for o in load.outcomes) or None,
            timeout=120,
        )
        time.sleep(2 * LOAD_PACE_S)
    recovered = longest_gap(probe.outcomes, restarted_at, probe.outcomes[-1].answered, ok=200)
    import_gap = longest_gap(load.outcomes, restarted_at, load.outcomes[-1].answered)
    figures["postgres restart: app reads again after"] = (
        f"{recovered:.1f} s (probe every {probe.pace} s, from `docker restart`)"
    )
    figures["postgres restart: longest gap between accepted imports"] = (
        f"{import_gap:.1f} s (uploads every {LOAD_PACE_S} s)"
    )
    assert _app_processes(dev) == before, "an app container restarted"
    assert_imported_exactly_once(dev, load)
    wait_converged(dev)
