"""Settings are validated up front, with errors naming the setting and a good value."""

from __future__ import annotations

import pytest

from app_support.health import HealthConfigError, HealthService, HealthSettings

TOKEN = "0123456789abcdef-token"


def test_defaults_are_valid_and_below_the_probe_timeout() -> None:
    settings = HealthSettings()
    assert settings.environment == "development"
    assert settings.deadline < 1.0
    assert settings.failure_ttl < settings.success_ttl
    assert settings.version


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"deadline": 0}, "deadline=0.8"),
        ({"deadline": float("nan")}, "deadline=0.8"),
        ({"check_timeout": -1}, "check_timeout=0.5"),
        ({"success_ttl": "5"}, "success_ttl=5"),
        ({"breaker_failures": 0}, "breaker_failures=3"),
        ({"memory_degraded_percent": 150}, "memory_degraded_percent=90"),
        ({"queue_backlog_degraded": True}, "queue_backlog_degraded=1000"),
        ({"environment": "prod"}, "APP_ENV=production"),
        ({"environment": "production"}, "METRICS_TOKEN"),
        ({"metrics_token": "  "}, "METRICS_TOKEN"),
        ({"deadline": float("inf")}, "deadline=0.8"),
    ],
)
def test_bad_values_name_the_setting_and_an_example(
    overrides: dict[str, object], names: str
) -> None:
    with pytest.raises(HealthConfigError, match=names) as info:
        HealthSettings(**overrides)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)


def test_from_env_reads_the_contract_variables() -> None:
    settings = HealthSettings.from_env(
        {"APP_ENV": "production", "APP_VERSION": "2.3.4", "METRICS_TOKEN": TOKEN}, deadline=0.5
    )
    assert settings.production
    assert (settings.version, settings.metrics_token, settings.deadline) == ("2.3.4", TOKEN, 0.5)
    assert HealthSettings.from_env({}).environment == "development"


def test_from_env_names_the_variable() -> None:
    with pytest.raises(HealthConfigError, match=r"^APP_ENV: 'staging' is not one of"):
        HealthSettings.from_env({"APP_ENV": "staging"})
    with pytest.raises(HealthConfigError, match=r"^METRICS_TOKEN: is required when APP_ENV"):
        HealthSettings.from_env({"APP_ENV": "production"})


def test_service_rejects_bad_check_names_and_clashes() -> None:
    service = HealthService(system_checks=False)

    def ok() -> dict[str, object]:
        return {"status": "healthy"}

    service.add_check("queues.import", ok)
    with pytest.raises(ValueError, match="clashes"):
        service.add_check("queues", ok)
    with pytest.raises(ValueError, match="dotted identifiers"):
        service.add_check("bad name", ok)
    with pytest.raises(ValueError, match="timeout"):
        service.add_check("slow", ok, timeout=0)
