"""amtool accepts the rendered alertmanager.yml of every stack and Redis mode; routing, inhibition
and the webhook setting say what the README says."""

import subprocess
from pathlib import Path

import pytest
import yaml

from stacks.model import StackConfigError, load_settings, stack_settings
from stacks.model.conf.alertmanager import render_alertmanager_config
from stacks.model.conf.alerts import render_alert_rules
from stacks.model.layout import Layout

AMTOOL = "/usr/bin/amtool"
MODES = ["standalone", "sentinel", "cluster"]
HOOK = "https://hooks.example.com/ha-stack"


def _config(stack: str, **raw: object) -> dict[str, object]:
    settings = stack_settings(stack, {f"ha-stack:{k}": v for k, v in raw.items()})
    loaded: dict[str, object] = yaml.safe_load(render_alertmanager_config(Layout(settings)))
    return loaded


@pytest.mark.parametrize("webhook", ["", HOOK])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_amtool_accepts_the_config(stack: str, mode: str, webhook: str, tmp_path: Path) -> None:
    settings = stack_settings(
        stack, {"ha-stack:redisMode": mode, "ha-stack:alertWebhookUrl": webhook}
    )
    path = tmp_path / "alertmanager.yml"
    path.write_text(render_alertmanager_config(Layout(settings)))
    checked = subprocess.run(
        [AMTOOL, "check-config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_committed_configs_pass_amtool_as_they_are() -> None:
    root = Path(__file__).resolve().parents[4]
    for stack in ("dev", "prod"):
        path = root / "configs" / stack / "alertmanager" / "alertmanager.yml"
        checked = subprocess.run(
            [AMTOOL, "check-config", str(path)], capture_output=True, text=True, timeout=60
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_notifications_go_to_the_stack_receiver_unless_a_webhook_is_set() -> None:
    def urls(config: dict[str, object]) -> list[str]:
        receivers = config["receivers"]
        assert isinstance(receivers, list)
        return [hook["url"] for r in receivers for hook in r["webhook_configs"]]

    assert urls(_config("dev")) == ["http://172.28.10.55:9095/alerts"]
    assert urls(_config("prod")) == ["http://172.28.20.55:9095/alerts"]
    assert urls(_config("prod", alertWebhookUrl=HOOK)) == [HOOK]


def test_dev_batches_for_seconds_and_prod_keeps_the_defaults() -> None:
    def timings(config: dict[str, object]) -> tuple[str, str, str]:
        route = config["route"]
        assert isinstance(route, dict)
        return route["group_wait"], route["group_interval"], route["repeat_interval"]

    assert timings(_config("dev")) == ("2s", "10s", "1h")
    assert timings(_config("prod")) == ("30s", "5m", "4h")


@pytest.mark.parametrize("mode", MODES)
def test_inhibitions_name_alerts_the_rules_define(mode: str) -> None:
    settings = stack_settings("dev", {"ha-stack:redisMode": mode})
    rules = yaml.safe_load(render_alert_rules(settings))
    defined = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    config = yaml.safe_load(render_alertmanager_config(Layout(settings)))
    named: set[str] = set()
    for rule in config["inhibit_rules"]:
        for matcher in rule["source_matchers"] + rule["target_matchers"]:
            if matcher.startswith("alertname"):
                named |= set(matcher.split("=", 1)[1].strip('~"').split("|"))
    assert named - {"RedisSentinelNoQuorum"} <= defined
    assert {"RedisMasterDown", "AppHighErrorRate"} <= named


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://hooks.example.com/x", "not an http:// or https:// URL"),
        ("https:///x", "names no host"),
        ("https://user:secret@hooks.example.com/x", "user-info"),
        ("https://hooks.example.com:99999/x", "bad port"),
        ("https://hooks.example.com/a b", "does not match"),
    ],
)
def test_a_bad_webhook_url_is_refused_naming_the_key(url: str, problem: str) -> None:
    with pytest.raises(StackConfigError) as caught:
        load_settings("dev", {"ha-stack:alertWebhookUrl": url})
    assert caught.value.key == "ha-stack:alertWebhookUrl"
    assert problem in str(caught.value)
    assert HOOK in str(caught.value)
    assert load_settings("dev", {"ha-stack:alertWebhookUrl": HOOK}).alerting.webhook_url == HOOK


def test_bad_alert_timings_are_refused() -> None:
    with pytest.raises(StackConfigError, match="ha-stack:alertGroupWait"):
        load_settings("dev", {"ha-stack:alertGroupWait": "soon"})
