"""APP_ENV, APP_VERSION and METRICS_TOKEN mean the same to health, metrics and the reference app."""

from __future__ import annotations

import pytest

from app_support.app_env import AppEnvironment, read_app_env
from app_support.env import ConfigError
from app_support.health import HealthConfigError, HealthSettings
from app_support.metrics import MetricsConfigError, MetricsSettings
from reference_app.config import AppConfig, AppConfigError

TOKEN = "0123456789abcdef"  # the shortest token production accepts


def test_unset_or_blank_variables_mean_development_without_a_token() -> None:
    assert read_app_env({}) == AppEnvironment("development", None, None)
    assert read_app_env({"APP_ENV": " ", "APP_VERSION": " "}) == AppEnvironment()


# Issue 13.12: APP_ENV=Production was refused by the reference app, accepted by the others.
@pytest.mark.parametrize("spelling", ["production", "Production", " PRODUCTION", "pRoDuCtIoN"])
def test_app_env_in_any_case_is_accepted_by_every_reader(spelling: str) -> None:
    environ = {"APP_ENV": spelling, "APP_VERSION": "1.2.3 ", "METRICS_TOKEN": TOKEN}
    assert read_app_env(environ) == AppEnvironment("production", "1.2.3", TOKEN)
    health = HealthSettings.from_env(environ)
    metrics = MetricsSettings.from_env(environ)
    assert (health.environment, health.version, health.metrics_token) == (
        metrics.environment,
        metrics.version,
        metrics.token,
    )
    assert AppConfig.from_env(environ).environment == "production"
    assert HealthSettings(environment=spelling, metrics_token=TOKEN).production
    assert MetricsSettings(environment=spelling, token=TOKEN).secured
    assert AppConfig(environment=spelling).secure_cookies


# Issue 13.13: a 1-character or non-ASCII METRICS_TOKEN was accepted in production.
@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("x", "has 1 characters, at least 16 in production"),
        ("0123456789abcde", "has 15 characters, at least 16 in production"),
        ("0123456789abcdef\u00e9", "must be printable ASCII"),
        ("0123456789 abcdef", "must be printable ASCII"),
        (" 0123456789abcdef ", "must be printable ASCII"),
        ("0123456789abcdef\n", "must be printable ASCII"),
    ],
)
def test_production_tokens_are_long_ascii_and_never_echoed(token: str, problem: str) -> None:
    environ = {"APP_ENV": "production", "METRICS_TOKEN": token}
    for reader, error in ((HealthSettings.from_env, HealthConfigError),
                          (MetricsSettings.from_env, MetricsConfigError)):  # fmt: skip
        with pytest.raises(error) as caught:
            reader(environ)
        message = str(caught.value)
        assert message.startswith(f"METRICS_TOKEN: {problem}")
        assert message.endswith("; for example METRICS_TOKEN=$(openssl rand -hex 32)")
        if len(token.strip()) > 3:  # "x" is in "hex"
            assert token.strip() not in message


def test_short_tokens_are_fine_in_development_but_not_non_ascii() -> None:
    assert MetricsSettings.from_env({"METRICS_TOKEN": "tok"}).token == "tok"
    with pytest.raises(MetricsConfigError, match="printable ASCII"):
        MetricsSettings.from_env({"METRICS_TOKEN": "t\u00f6k"})


@pytest.mark.parametrize(
    ("environ", "named"),
    [({"APP_ENV": "staging"}, "APP_ENV"), ({"METRICS_TOKEN": " padded "}, "METRICS_TOKEN")],
)
def test_every_reader_rejects_the_same_values_in_the_same_words(
    environ: dict[str, str], named: str
) -> None:
    messages = set()
    for reader, error in ((HealthSettings.from_env, HealthConfigError),
                          (MetricsSettings.from_env, MetricsConfigError),
                          (read_app_env, ConfigError)):  # fmt: skip
        with pytest.raises(error, match=f"^{named}: .*; for example {named}=") as caught:
            reader(environ)
        assert isinstance(caught.value, ValueError)
        messages.add(str(caught.value))
    if named == "APP_ENV":
        with pytest.raises(AppConfigError) as caught:
            AppConfig.from_env(environ)
        messages.add(str(caught.value))
    assert len(messages) == 1, messages
