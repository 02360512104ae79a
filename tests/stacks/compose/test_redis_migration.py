"""scripts/redis-migrate's decisions without Docker: which mode runs now, which mode a rendered
compose file deploys, which services make up a mode's Redis, and how cluster_migrate names it
(the drill tests/drills/cluster/test_migration.py runs the whole migration on dev-cluster)."""

import pytest

from stacks.compose.redis_migration import (
    deployment_url,
    main,
    redis_services,
    source_mode,
    target_mode,
)
from stacks.model import stack_topology


def test_the_running_mode_comes_from_the_container_names() -> None:
    prefix = "ha-dev-cluster-"
    cluster = [f"{prefix}redis-cluster-{i}" for i in range(6)] + [f"{prefix}app-0"]
    sentinel = [f"{prefix}redis-0", f"{prefix}redis-1", f"{prefix}sentinel-0"]
    assert source_mode(cluster, "dev-cluster") == "cluster"
    assert source_mode(sentinel, "dev-cluster") == "sentinel"
    assert source_mode([f"{prefix}redis-0"], "dev-cluster") == "standalone"
    assert source_mode([f"{prefix}app-0", "ha-dev-redis-0"], "dev-cluster") is None


def test_the_target_mode_comes_from_the_rendered_services() -> None:
    assert target_mode({"services": {"redis-cluster-0": {}, "app-0": {}}}) == "cluster"
    assert target_mode({"services": {"redis-0": {}, "sentinel-0": {}}}) == "sentinel"
    assert target_mode({"services": {"redis-0": {}}}) == "standalone"


def test_each_modes_redis_services_and_address() -> None:
    cluster, sentinel, standalone = (
        stack_topology("dev-cluster", {"ha-stack:redisMode": m})
        for m in ("cluster", "sentinel", "standalone")
    )
    assert redis_services(cluster) == [
        *(f"redis-cluster-{i}" for i in range(6)),
        "redis-cluster-init",
    ]
    assert redis_services(sentinel) == [
        "redis-0",
        "redis-1",
        "sentinel-0",
        "sentinel-1",
        "sentinel-2",
    ]
    assert redis_services(standalone) == ["redis-0"]
    assert deployment_url(cluster) == "cluster://" + ",".join(
        f"172.28.30.{30 + i}:6379" for i in range(6)
    )
    assert deployment_url(sentinel) == "sentinel://" + ",".join(
        f"172.28.30.{20 + i}:26379" for i in range(3)
    )
    assert deployment_url(standalone) == "redis://172.28.30.10:6379/0"


def test_without_the_stacks_env_file_nothing_is_touched(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["no-such-stack"]) == 1
    err = capsys.readouterr().err
    assert "configs/no-such-stack/.env is missing" in err
    assert "data is unchanged" in err
