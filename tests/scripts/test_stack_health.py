"""scripts/stack_health.py's decision: when a deployed stack is ready, still starting or failed.

Pure: containers are built as `docker inspect` would describe them; no Docker is asked.
"""

from typing import Any

from tests.scripts.stack_health_module import load_stack_health

health = load_stack_health()


def _container(
    service: str,
    status: str = "running",
    *,
    health_status: str | None = "healthy",
    exit_code: int = 0,
    restarts: int = 0,
    policy: str = "unless-stopped",
) -> Any:
    return health.Container(
        stack="dev-cluster",
        name=f"ha-dev-cluster-{service}",
        status=status,
        health=health_status,
        exit_code=exit_code,
        restarts=restarts,
        restart_policy=policy,
        ports={},
    )


def _init(status: str, exit_code: int = 0, restarts: int = 0) -> Any:
    """The cluster's one-shot init job, as the stacks declare it (restart on-failure)."""
    return _container(
        "redis-cluster-init",
        status,
        health_status=None,
        exit_code=exit_code,
        restarts=restarts,
        policy="on-failure",
    )


def test_a_one_shot_job_that_exited_0_is_done() -> None:
    verdict = health.judge([_container("redis-cluster-0"), _init("exited", 0)])
    assert verdict.ready
    assert verdict.failed == ()


def test_a_one_shot_job_still_running_is_waited_for() -> None:
    verdict = health.judge([_container("redis-cluster-0"), _init("running")])
    assert not verdict.ready
    assert verdict.failed == ()
    assert [c.service for c in verdict.waiting] == ["redis-cluster-init"]


def test_a_one_shot_job_that_exited_non_zero_fails_at_once() -> None:
    init = _init("exited", 1)
    verdict = health.judge([_container("redis-cluster-0"), init])
    assert not verdict.ready
    assert verdict.failed == (init,)
    assert "ha-dev-cluster-redis-cluster-init (exited(1))" in verdict.reason
    assert "one-shot job failed" in verdict.reason


def test_a_job_without_restart_policy_is_one_shot_too() -> None:
    done = _container("migrate", "exited", health_status=None, policy="no")
    failed = _container("seed", "exited", health_status=None, exit_code=2, policy="")
    assert health.judge([done]).ready
    assert health.judge([done, failed]).failed == (failed,)


def test_a_one_shot_job_docker_restarts_is_waited_for_until_it_loops() -> None:
    # on-failure: Docker reports "restarting" while it retries the job.
    assert health.judge([_init("restarting", 1, restarts=1)]).failed == ()
    looping = _init("restarting", 1, restarts=4)
    verdict = health.judge([looping])
    assert verdict.failed == (looping,)
    assert "keep restarting" in verdict.reason


def test_an_exited_service_is_not_done() -> None:
    # A long-running service (restart unless-stopped) that exited is not ready, whatever its code.
    stopped = _container("redis-cluster-1", "exited", health_status=None, exit_code=0)
    verdict = health.judge([stopped])
    assert not verdict.ready
    assert verdict.failed == ()


def test_unhealthy_and_starting_services_are_waited_for() -> None:
    starting = _container("app-0", health_status="starting")
    unhealthy = _container("app-1", health_status="unhealthy")
    verdict = health.judge([starting, unhealthy, _init("exited", 0)])
    assert not verdict.ready
    assert verdict.waiting == (starting, unhealthy)
    assert verdict.failed == ()


def test_a_crash_loop_fails_before_the_timeout() -> None:
    app = _container("app-0", "restarting", health_status=None, exit_code=1, restarts=4)
    verdict = health.judge([app])
    assert verdict.failed == (app,)
    assert "ha-dev-cluster-app-0 (restarting, 4 restarts) keep restarting" in verdict.reason


def test_a_timeout_fails_with_every_container_not_ready() -> None:
    starting = _container("app-0", health_status="starting")
    verdict = health.judge([starting, _container("prometheus")], timed_out_after=300)
    assert verdict.failed == (starting,)
    assert verdict.reason == "ha-dev-cluster-app-0 (starting) are not ready after 300 s"


def test_a_timeout_with_every_container_ready_is_ready() -> None:
    assert health.judge([_container("prometheus")], timed_out_after=300).ready


def test_no_container_is_not_ready() -> None:
    verdict = health.judge([])
    assert not verdict.ready
    assert "is the stack deployed" in verdict.reason


def test_the_service_name_keeps_a_stack_name_with_dashes() -> None:
    assert _container("postgres").service == "postgres"
    assert _init("exited").service == "redis-cluster-init"
