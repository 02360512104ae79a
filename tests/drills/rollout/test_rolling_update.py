"""Rolling app updates on prod under load (issue 15): a broken version stops at the first replica
and the others never stop serving; a good version replaces every replica one at a time; a
rollback returns every replica to the version before it.

Load: GET /api/auth/me through each web replica's published port, 2 a second each. A request
to the replica being replaced does not count (windows.py says exactly which); every other
request must succeed. Figures go to build/drills/figures.txt.
"""

import time
from collections import Counter
from collections.abc import Callable

import pytest

from tests.drills.rollout.conftest import BROKEN, GOOD, ScriptRun, running_images
from tests.drills.rollout.load import PortLoad
from tests.drills.rollout.windows import judge, replacement_windows
from tests.infra.deployed import DeployedStack

pytestmark = pytest.mark.rollout_drill

# The broken version's bound: short, for the drill's time (it never becomes ready anyway). The
# good versions get a generous one: a busy CI machine starts a replica in 10 s or in 60.
BROKEN_TIMEOUT_S = "45"
GOOD_TIMEOUT_S = "300"
SETTLE_S = 2.0  # load on every replica before and after each run


def _under_load(
    prod: DeployedStack, headers: dict[str, str], run: Callable[[], ScriptRun]
) -> tuple[ScriptRun, PortLoad]:
    ports = {s: prod.published_port(s, 8000) for s in prod.services("app", command="web")}
    with PortLoad(ports, headers) as load:
        time.sleep(SETTLE_S)
        result = run()
        time.sleep(SETTLE_S)
    return result, load


def _check_load(name: str, result: ScriptRun, load: PortLoad, figures: dict[str, str]) -> None:
    requests = load.snapshot()
    windows = replacement_windows(result.events, end=max(r.answered for r in requests))
    verdict = judge(requests, windows)
    figures[f"rollout {name}: requests to replicas serving / failed"] = (
        f"{verdict.serving_ok + len(verdict.serving_failed)} / {len(verdict.serving_failed)}"
    )
    figures[f"rollout {name}: requests to the replica being replaced / failed"] = (
        f"{verdict.skipped} / {verdict.skipped_failed}"
    )
    failed = Counter((r.service, r.status) for r in verdict.serving_failed)
    assert not verdict.serving_failed, f"(service, status 0 = no answer): {dict(failed)}"
    # Every port carried load outside its windows (the check above had something to check).
    served = {r.service for r in requests if r.ok}
    assert served == {r.service for r in requests}, served


# Three rollouts of five replicas on a busy machine: pytest's 300 s default is too short.
@pytest.mark.timeout(1800)
def test_broken_rollout_stops_good_rollout_completes_rollback_restores(
    prod: DeployedStack,
    versions: dict[str, str],
    session_headers: dict[str, str],
    run_rollout: Callable[..., ScriptRun],
    figures: dict[str, str],
) -> None:
    declared = prod.settings.images.app.tag
    services = prod.services("app")
    everywhere = dict.fromkeys(services, versions[declared])

    # 1. The broken version: app-0 is not ready in time, goes back; nothing else is touched.
    broken, load = _under_load(
        prod, session_headers,
        lambda: run_rollout("rollout", "--tag", BROKEN, "--timeout", BROKEN_TIMEOUT_S),
    )  # fmt: skip
    assert broken.status == 1, broken.stdout
    assert {str(e["service"]) for e in broken.events} == {"app-0"}, broken.events
    assert [e["kind"] for e in broken.events] == ["replacing", "not-ready", "restoring", "restored"]
    assert running_images(prod) == everywhere
    _check_load("broken", broken, load, figures)
    figures["rollout broken: stopped and restored in"] = f"{broken.seconds:.1f} s"

    # 2. A good version: every replica replaced, one at a time, each ready before the next.
    good, load = _under_load(
        prod,
        session_headers,
        lambda: run_rollout("rollout", "--tag", GOOD, "--timeout", GOOD_TIMEOUT_S),
    )
    assert good.status == 0, good.stdout
    replaced = [str(e["service"]) for e in good.events if e["kind"] == "replacing"]
    ready = [str(e["service"]) for e in good.events if e["kind"] == "ready"]
    assert replaced == ready == services
    kinds = [e["kind"] for e in good.events]
    assert kinds == ["replacing", "ready"] * len(services)  # never two at once
    assert running_images(prod) == dict.fromkeys(services, versions[GOOD])
    _check_load("good", good, load, figures)
    figures["rollout good: 5 replicas replaced in"] = f"{good.seconds:.1f} s"

    # 3. Rollback: every replica back on the version before the good rollout.
    back, load = _under_load(
        prod, session_headers, lambda: run_rollout("rollback", "--timeout", GOOD_TIMEOUT_S)
    )
    assert back.status == 0, back.stdout
    assert [str(e["service"]) for e in back.events if e["kind"] == "ready"] == services
    assert running_images(prod) == everywhere
    _check_load("rollback", back, load, figures)
    figures["rollback: 5 replicas back in"] = f"{back.seconds:.1f} s"
