"""APP_ENV, APP_VERSION and METRICS_TOKEN mean the same to health and metrics."""

from __future__ import annotations

import pytest

from app_support.app_env import AppEnvironment, read_app_env
from app_support.health import HealthConfigError, HealthSettings
from app_support.metrics import MetricsConfigError, MetricsSettings


def test_unset_or_blank_variables_mean_development_without_a_token() -> None:
    assert read_app_env({}) == AppEnvironment("development", None, None)
    assert read_app_env({"APP_ENV": " ", "APP_VERSION": " "}) == AppEnvironment()


def test_values_are_read_with_app_env_case_insensitive() -> None:
    environ = {"APP_ENV": " Production", "APP_VERSION": "1.2.3 ", "METRICS_TOKEN": "tok"}
    assert read_app_env(environ) == AppEnvironment("production", "1.2.3", "tok")
    health = HealthSettings.from_env(environ)
    metrics = MetricsSettings.from_env(environ)
    assert (health.environment, health.version, health.metrics_token) == (
        metrics.environment,
        metrics.version,
        metrics.token,
    )


@pytest.mark.parametrize(
    ("environ", "named"),
    [({"APP_ENV": "staging"}, "APP_ENV"), ({"METRICS_TOKEN": " padded "}, "METRICS_TOKEN")],
)
def test_health_and_metrics_reject_the_same_values(environ: dict[str, str], named: str) -> None:
    with pytest.raises(HealthConfigError, match=f"{named} must be.*example: {named}="):
        HealthSettings.from_env(environ)
    with pytest.raises(MetricsConfigError, match=f"{named} must be.*example: {named}="):
        MetricsSettings.from_env(environ)
