"""promtool accepts the rendered Prometheus config and rules of every stack and Redis mode."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from stacks.model import stack_settings
from stacks.model.conf.alerts import render_alert_rules
from stacks.model.conf.prometheus import METRICS_TOKEN_FILE, render_prometheus_config
from stacks.model.layout import Layout

PROMTOOL = "/usr/bin/promtool"
MODES = ["standalone", "sentinel", "cluster"]


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_promtool_accepts_config_and_rules(stack: str, mode: str, tmp_path: Path) -> None:
    settings = stack_settings(stack, {"ha-stack:redisMode": mode})
    # The real token file exists only inside the container; promtool checks that it exists.
    token = tmp_path / "metrics_token"
    token.write_text("token")
    (tmp_path / "prometheus.yml").write_text(
        render_prometheus_config(Layout(settings), metrics_token_file=str(token))
    )
    (tmp_path / "alerts.yml").write_text(render_alert_rules(settings))
    checked = _promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rules = _promtool("check", "rules", str(tmp_path / "alerts.yml"))
    assert rules.returncode == 0, rules.stdout + rules.stderr


def test_committed_dev_config_passes_promtool_as_is(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[4]
    shutil.copytree(root / "configs" / "dev" / "prometheus", tmp_path, dirs_exist_ok=True)
    checked = _promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_scrape_targets_follow_the_topology() -> None:
    config = yaml.safe_load(render_prometheus_config(Layout(stack_settings("prod"))))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {
        "prometheus", "app", "worker", "redis", "sentinel", "postgres", "alertmanager",
        "postgres-backup",
    }  # fmt: skip

    def targets(job: str) -> list[str]:
        return [t for sc in jobs[job]["static_configs"] for t in sc["targets"]]

    assert targets("app") == [f"172.28.20.{100 + i}:8000" for i in range(3)]
    assert targets("worker") == [f"172.28.20.{150 + i}:8000" for i in range(2)]
    assert targets("redis") == [f"redis://172.28.20.{10 + i}:6379" for i in range(3)]
    assert targets("sentinel") == [f"redis://172.28.20.{20 + i}:26379" for i in range(3)]
    assert targets("postgres") == ["172.28.20.53:9187"]
    assert targets("postgres-backup") == ["172.28.20.41:9188"]
    assert targets("alertmanager") == ["172.28.20.54:9093"]
    alerting = config["alerting"]["alertmanagers"]
    assert alerting == [{"static_configs": [{"targets": ["172.28.20.54:9093"]}]}]
    assert jobs["redis"]["relabel_configs"][-1]["replacement"] == "172.28.20.51:9121"
    assert jobs["app"]["authorization"]["credentials_file"] == METRICS_TOKEN_FILE
    assert jobs["worker"]["authorization"]["credentials_file"] == METRICS_TOKEN_FILE
    dev_jobs = yaml.safe_load(render_prometheus_config(Layout(stack_settings("dev"))))
    dev_jobs = dev_jobs["scrape_configs"]
    assert not any("authorization" in job for job in dev_jobs)


def test_alert_rules_cover_the_issue_list() -> None:
    def names(mode: str) -> set[str]:
        rules = yaml.safe_load(
            render_alert_rules(stack_settings("dev", {"ha-stack:redisMode": mode}))
        )
        return {rule["alert"] for group in rules["groups"] for rule in group["rules"]}

    common = {
        "RedisMasterDown", "RedisMasterChanged", "RedisReplicaLag", "PostgresDown",
        "PostgresConnectionsNearMax", "PostgresBackupTooOld", "AppDown", "AppHighErrorRate",
        "AppHighLatency",
    }  # fmt: skip
    assert names("sentinel") == common | {"RedisSentinelNoQuorum"}
    assert names("cluster") == common | {"RedisClusterDown"}
    assert names("standalone") == common
