"""MetricsSettings from the environment, and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from app_support.metrics import MetricsConfigError, MetricsSettings


def test_defaults_are_an_open_development_endpoint() -> None:
    settings = MetricsSettings.from_env({})
    assert settings.environment == "development"
    assert not settings.secured
    assert settings.token is None
    assert settings.multiprocess_dir is None
    assert settings.port is None
    assert settings.version  # the package version


def test_reads_every_variable(tmp_path: Path) -> None:
    settings = MetricsSettings.from_env(
        {
            "APP_ENV": "production",
            "METRICS_TOKEN": "abc123-a-long-enough-token",
            "APP_VERSION": "2.3.4",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
            "METRICS_PORT": "9100",
        }
    )
    assert settings.secured
    assert settings.token == "abc123-a-long-enough-token"
    assert settings.version == "2.3.4"
    assert settings.multiprocess_dir == str(tmp_path)
    assert settings.port == 9100


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"APP_ENV": "production"}, "METRICS_TOKEN"),
        ({"METRICS_TOKEN": " padded "}, "METRICS_TOKEN"),
        ({"PROMETHEUS_MULTIPROC_DIR": "/nonexistent/metrics"}, "PROMETHEUS_MULTIPROC_DIR"),
        ({"METRICS_PORT": "http"}, "METRICS_PORT"),
        ({"METRICS_PORT": "70000"}, "METRICS_PORT"),
        ({"METRICS_PORT": "\u00b2"}, "METRICS_PORT"),
    ],
)
def test_bad_values_name_the_variable_and_give_an_example(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(MetricsConfigError, match=named) as raised:
        MetricsSettings.from_env(environ)
    assert "example" in str(raised.value)
    assert isinstance(raised.value, ValueError)
