"""scripts/redis-migrate's decisions without Docker: which mode runs now, which mode a rendered
compose file deploys, which services make up a mode's Redis, and how cluster_migrate names it
(the drill tests/drills/cluster/test_migration.py runs the whole migration on dev-cluster)."""

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from stacks.compose import redis_migration
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


class FakeDocker:
    """Answers the commands migrate_stack runs (docker, docker-compose, scripts/up)."""

    def __init__(self, running: list[str], report: dict[str, object]) -> None:
        self.running = running
        self.report = report
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], *, timeout: float = 600) -> str:
        del timeout
        self.calls.append(list(argv))
        if argv[:2] == ["docker", "ps"]:
            return "\n".join(self.running)
        if argv[:2] == ["docker", "inspect"]:
            name = argv[-1]
            if name.endswith("-init"):
                return json.dumps({"Status": "exited", "ExitCode": 0, "Running": False})
            return json.dumps(
                {"Status": "running", "Running": True, "Health": {"Status": "healthy"}}
            )
        if argv[:2] == ["docker", "run"]:
            return "copying\n" + json.dumps(self.report) + "\n"
        return ""


REPORT = {"copied": 27, "checked": 27, "by_type": {"hash": 12, "string": 15}, "copy_seconds": 0.01}


def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "configs" / "dev-cluster").mkdir(parents=True)
    (root / "configs" / "dev-cluster" / ".env").write_text("REDIS_PASSWORD=x\n")
    monkeypatch.setattr(redis_migration, "REPO_ROOT", root)
    return root


def test_sentinel_into_cluster_stops_the_app_starts_the_cluster_copies_and_deploys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _env(tmp_path, monkeypatch)
    target = root / "configs" / "dev-cluster"
    (target / "docker-compose.yml").write_text("services:\n  redis-cluster-0: {}\n  app-0: {}\n")
    running = ["ha-dev-cluster-redis-0", "ha-dev-cluster-sentinel-0", "ha-dev-cluster-app-0"]
    docker = FakeDocker(running, REPORT)
    monkeypatch.setattr(redis_migration, "_run", docker)
    summary = redis_migration.migrate_stack("dev-cluster", target)
    assert (summary["from"], summary["to"], summary["keys"], summary["checked"]) == (
        "sentinel", "cluster", 27, 27,
    )  # fmt: skip
    commands = [" ".join(call[:3]) for call in docker.calls]
    stop = commands.index("docker stop --time")
    compose = next(i for i, c in enumerate(commands) if c.startswith("docker-compose"))
    copy = commands.index("docker run --rm")
    up = next(i for i, c in enumerate(commands) if c.startswith("scripts/up"))
    assert stop < compose < copy < up
    assert docker.calls[stop][-2:] == ["ha-dev-cluster-app-0", "ha-dev-cluster-worker-0"]
    assert docker.calls[compose][-7:] == [
        *(f"redis-cluster-{i}" for i in range(6)),
        "redis-cluster-init",
    ]
    run = docker.calls[copy]
    assert run[run.index("--source") + 1].startswith("sentinel://172.28.30.20:26379")
    assert run[run.index("--target") + 1].startswith("cluster://172.28.30.30:6379")
    assert "--flush-target" in run
    # The committed directory is the default deployment: no --config-dir.
    assert docker.calls[up] == ["scripts/up", "dev-cluster", "--no-build", "--no-install"]


def test_cluster_back_to_a_sentinel_variant_deploys_the_variant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(tmp_path, monkeypatch)
    variant = tmp_path / "sentinel"
    variant.mkdir()
    (variant / "docker-compose.yml").write_text("services:\n  redis-0: {}\n  sentinel-0: {}\n")
    docker = FakeDocker(["ha-dev-cluster-redis-cluster-0"], REPORT)
    monkeypatch.setattr(redis_migration, "_run", docker)
    summary = redis_migration.migrate_stack("dev-cluster", variant)
    assert (summary["from"], summary["to"]) == ("cluster", "sentinel")
    assert docker.calls[-1][:4] == ["scripts/up", "dev-cluster", "--config-dir", str(variant)]


@pytest.mark.parametrize(
    ("running", "services", "message"),
    [
        ([], "redis-cluster-0", "no Redis container of stack dev-cluster runs"),
        (["ha-dev-cluster-redis-cluster-0"], "redis-cluster-0", "into or out of cluster mode only"),
        (["ha-dev-cluster-redis-0"], "sentinel-0", "standalone <-> sentinel keeps the data"),
    ],
)
def test_nothing_is_stopped_when_there_is_nothing_to_move(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    running: list[str],
    services: str,
    message: str,
) -> None:
    root = _env(tmp_path, monkeypatch)
    target = root / "configs" / "dev-cluster"
    (target / "docker-compose.yml").write_text(f"services:\n  {services}: {{}}\n")
    docker = FakeDocker(running, REPORT)
    monkeypatch.setattr(redis_migration, "_run", docker)
    with pytest.raises(RuntimeError, match=message):
        redis_migration.migrate_stack("dev-cluster", target)
    assert all(call[:2] == ["docker", "ps"] for call in docker.calls)


def test_a_failed_step_leaves_the_source_and_says_how_to_come_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _env(tmp_path, monkeypatch)
    (root / "configs" / "dev-cluster" / "docker-compose.yml").write_text(
        "services:\n  redis-cluster-0: {}\n"
    )

    def failing(argv: Sequence[str], *, timeout: float = 600) -> str:
        if argv[:2] == ["docker", "ps"]:
            return "ha-dev-cluster-redis-0\nha-dev-cluster-sentinel-0"
        raise RuntimeError("docker stop ... failed (exit 1)")

    monkeypatch.setattr(redis_migration, "_run", failing)
    assert redis_migration.main(["dev-cluster"]) == 1
    err = capsys.readouterr().err
    assert "docker stop ... failed" in err
    assert "scripts/up dev-cluster" in err
