"""The stack validator refuses what used to slip through (issue 13, item 14): each case names the
key and a value that would be accepted, and the suggested value is accepted indeed."""

import ipaddress
import textwrap
from pathlib import Path

import pytest

from app_support.app_env import MIN_TOKEN_LENGTH
from app_support.postgres import DatabaseConfigError, DatabaseSettings
from stacks.model import StackConfigError, check_secret_value, load_settings
from stacks.model.secret_keys import MIN_SECRET_LENGTH
from stacks.model.stackfile import read_stack_config, stack_settings
from tests.stacks.mocked_program import FAKE_SECRETS, run_program

ENCRYPTED = "AAABAKd2nd8l0rJm4n6Yk2XW3mQk4Lr5yWnD0r2lX0o="


def _refused(stack: str, raw: dict[str, object], key: str) -> StackConfigError:
    """The error ``load_settings`` raises for ``raw``; it must name ``key``."""
    with pytest.raises(StackConfigError) as caught:
        load_settings(stack, raw)
    assert caught.value.key == f"ha-stack:{key}", caught.value
    return caught.value


def _stack_file(root: Path, stack: str, body: str) -> Path:
    path = root / f"Pulumi.{stack}.yaml"
    path.write_text(textwrap.dedent(body))
    return path


# Host ports ------------------------------------------------------------------------------------


def test_app_replicas_must_publish_below_65536() -> None:
    # 50 replicas from 65500: the last would be 65549 (the validator let 65584 through before).
    raw: dict[str, object] = {"ha-stack:appReplicas": 50, "ha-stack:appHostPort": 65500}
    error = _refused("dev", raw, "appHostPort")
    assert "65500..65549" in error.problem
    assert error.example == "8000"
    load_settings("dev", {**raw, "ha-stack:appHostPort": error.example})
    # The highest port may be exactly 65535.
    highest = load_settings("dev", {**raw, "ha-stack:appHostPort": 65486})
    assert highest.publish.app_port + highest.app.web_replicas - 1 == 65535


def test_the_app_port_range_matters_only_when_the_app_is_published() -> None:
    raw = {"ha-stack:appReplicas": 50, "ha-stack:appHostPort": 65500, "ha-stack:publish": []}
    assert load_settings("dev", raw).publish.services == ()


# Values the app refuses -------------------------------------------------------------------------


def test_database_retry_attempts_zero_is_refused_as_the_app_refuses_it() -> None:
    error = _refused("dev", {"ha-stack:databaseRetryAttempts": 0}, "databaseRetryAttempts")
    assert error.example == "5"
    with pytest.raises(DatabaseConfigError, match="DATABASE_RETRY_ATTEMPTS"):
        DatabaseSettings.from_env(
            {"DATABASE_URL": "postgresql://h/db", "DATABASE_RETRY_ATTEMPTS": "0"}
        )


def test_a_metrics_token_must_be_as_long_as_the_app_requires_in_production() -> None:
    assert MIN_SECRET_LENGTH["metricsToken"] >= MIN_TOKEN_LENGTH
    check_secret_value("metricsToken", "a" * MIN_TOKEN_LENGTH)
    with pytest.raises(StackConfigError, match="at least 16 characters"):
        check_secret_value("metricsToken", "a" * (MIN_TOKEN_LENGTH - 1))
    assert check_secret_value("redisPassword", "a" * 8) == "a" * 8


# Subnets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subnet",
    [
        "127.0.0.0/24",  # loopback
        "169.254.0.0/24",  # link-local
        "100.64.0.0/24",  # shared address space (carrier-grade NAT)
        "192.0.0.0/24",  # IETF protocol assignments ("private" to Python, not RFC 1918)
        "198.18.0.0/24",  # benchmarking
        "8.8.8.0/24",
        "172.32.0.0/24",  # just past 172.16.0.0/12
    ],
)
def test_subnets_outside_rfc_1918_are_refused(subnet: str) -> None:
    error = _refused("dev", {"ha-stack:subnet": subnet}, "subnet")
    assert "RFC 1918" in error.problem
    assert error.example == "172.28.10.0/24"


@pytest.mark.parametrize(
    "subnet", ["10.1.2.0/24", "172.16.5.0/24", "172.31.255.0/24", "192.168.50.0/24"]
)
def test_rfc_1918_subnets_are_accepted(subnet: str) -> None:
    assert str(load_settings("dev", {"ha-stack:subnet": subnet}).subnet) == subnet


@pytest.mark.parametrize("subnet", ["172.28.10.0/24", "172.28.0.0/16"])
def test_prod_cannot_take_the_subnet_of_the_committed_dev_stack(subnet: str) -> None:
    with pytest.raises(StackConfigError) as caught:
        stack_settings("prod", {"ha-stack:subnet": subnet})
    error = caught.value
    assert error.key == "ha-stack:subnet"
    assert "stack dev's subnet 172.28.10.0/24 (Pulumi.dev.yaml)" in error.problem
    assert stack_settings("prod", {"ha-stack:subnet": error.example}).stack == "prod"


def test_two_stack_files_on_one_subnet_are_refused(tmp_path: Path) -> None:
    for stack in ("dev", "prod", "staging"):
        _stack_file(tmp_path, stack, "config:\n  ha-stack:subnet: 10.9.0.0/24\n")
    with pytest.raises(StackConfigError, match=r"overlaps stack dev's subnet 10\.9\.0\.0/24"):
        stack_settings("staging", root=tmp_path)
    _stack_file(tmp_path, "staging", "config:\n  ha-stack:subnet: 10.9.1.0/24\n")
    assert str(stack_settings("staging", root=tmp_path).subnet) == "10.9.1.0/24"


def test_the_pulumi_program_refuses_a_subnet_another_stack_uses() -> None:
    with pytest.raises(StackConfigError, match="ha-stack:subnet"):
        run_program("prod", {"ha-stack:subnet": "172.28.10.0/24"}, FAKE_SECRETS)


# The stack file --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("config:\n  ha-stack:redisMode: [sentinel\n", "line 3"),
        ("config:\n  ha-stack:appReplicas: 2\n ha-stack:appWorkers: 1\n", "line 3"),
        ("config:\n\tha-stack:appReplicas: 2\n", "line 2"),
    ],
)
def test_malformed_yaml_is_a_config_error_not_a_traceback(
    tmp_path: Path, body: str, where: str
) -> None:
    _stack_file(tmp_path, "dev", body)
    with pytest.raises(StackConfigError) as caught:
        read_stack_config("dev", tmp_path)
    assert caught.value.key == "Pulumi.dev.yaml"
    assert where in str(caught.value)
    assert "is not valid YAML" in str(caught.value)


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    _stack_file(
        tmp_path,
        "dev",
        """\
        config:
          ha-stack:appReplicas: 2
          ha-stack:appWorkers: 1
          ha-stack:appReplicas: 3
        """,
    )
    with pytest.raises(StackConfigError) as caught:
        read_stack_config("dev", tmp_path)
    assert caught.value.key == "ha-stack:appReplicas"
    assert "lines 2 and 4" in caught.value.problem
    assert caught.value.example == "3"


def test_a_config_section_given_twice_is_refused(tmp_path: Path) -> None:
    _stack_file(
        tmp_path, "dev", "config:\n  ha-stack:appReplicas: 2\nconfig:\n  ha-stack:appWorkers: 1\n"
    )
    with pytest.raises(StackConfigError, match="config: given twice"):
        read_stack_config("dev", tmp_path)


def test_a_mapping_where_a_value_belongs_is_refused(tmp_path: Path) -> None:
    _stack_file(tmp_path, "dev", "config:\n  ha-stack:appReplicas:\n    value: 0\n")
    with pytest.raises(StackConfigError) as caught:
        stack_settings("dev", root=tmp_path)
    assert caught.value.key == "ha-stack:appReplicas"
    assert "is a mapping where a single value belongs" in caught.value.problem
    assert caught.value.example == "2"
    for key, example in (("subnet", "172.28.10.0/24"), ("publish", "'[\"app\"]'"),
                         ("buildImages", "true"), ("redisMode", "standalone")):  # fmt: skip
        assert _refused("dev", {f"ha-stack:{key}": {"value": 1}}, key).example == example


def test_only_secret_keys_take_the_encrypted_form(tmp_path: Path) -> None:
    _stack_file(
        tmp_path,
        "dev",
        f"""\
        config:
          ha-stack:redisPassword:
            secure: {ENCRYPTED}
          ha-stack:appReplicas:
            secure: {ENCRYPTED}
        """,
    )
    with pytest.raises(StackConfigError) as caught:
        stack_settings("dev", root=tmp_path)
    assert caught.value.key == "ha-stack:appReplicas"
    assert "is encrypted" in caught.value.problem


@pytest.mark.parametrize(
    "key", ["redisPassword", "redisSentinelPassword", "postgresPassword", "metricsToken"]
)
def test_a_plain_text_secret_in_the_stack_file_is_refused(tmp_path: Path, key: str) -> None:
    _stack_file(tmp_path, "dev", f"config:\n  ha-stack:{key}: correct-horse-battery-staple\n")
    with pytest.raises(StackConfigError) as caught:
        read_stack_config("dev", tmp_path)
    assert caught.value.key == f"ha-stack:{key}"
    assert "plain text in Pulumi.dev.yaml" in caught.value.problem
    assert "--secret" in str(caught.value)
    assert "correct-horse" not in str(caught.value)
    _stack_file(tmp_path, "dev", f"config:\n  ha-stack:{key}:\n    secure: {ENCRYPTED}\n")
    assert read_stack_config("dev", tmp_path) == {}  # the model never sees a secret


def test_the_pulumi_program_refuses_a_plain_text_secret() -> None:
    # Set without --secret: Pulumi hands it over as a plain value.
    with pytest.raises(StackConfigError, match=r"ha-stack:redisPassword: is plain text"):
        run_program("dev", {"ha-stack:redisPassword": "correct-horse-battery-staple"})


# PostgreSQL max_connections ---------------------------------------------------------------------


def test_max_connections_beyond_10000_names_the_settings_that_produce_it() -> None:
    raw: dict[str, object] = {
        "ha-stack:appReplicas": 50,
        "ha-stack:appWorkers": 50,
        "ha-stack:databasePoolSize": 200,
        "ha-stack:postgresHeadroom": 1000,
    }
    error = _refused("dev", raw, "databasePoolSize")
    for part in ("21000", "appReplicas 50", "appWorkers 50", "databasePoolSize 200",
                 "postgresHeadroom 1000"):  # fmt: skip
        assert part in error.problem
    assert error.example == "90"  # (10000 - 1000) // 100
    fixed = load_settings("dev", {**raw, "ha-stack:databasePoolSize": error.example})
    assert fixed.max_connections == 10_000


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("config: [1, 2]\n", "config is not a mapping"),
        ("config:\n  ? [a, b]\n  : 1\n", "is not valid YAML"),  # a key YAML cannot hash
    ],
)
def test_a_config_that_is_not_a_plain_mapping_is_refused(
    tmp_path: Path, body: str, problem: str
) -> None:
    _stack_file(tmp_path, "dev", body)
    with pytest.raises(StackConfigError, match=problem):
        read_stack_config("dev", tmp_path)


def test_a_broken_other_stack_does_not_stop_this_one(tmp_path: Path) -> None:
    # The broken file is reported when that stack is rendered or deployed itself.
    _stack_file(tmp_path, "dev", "config:\n  ha-stack:subnet: 10.9.0.0/24\n")
    _stack_file(tmp_path, "prod", "config:\n  ha-stack:subnet: [oops\n")
    assert str(stack_settings("dev", root=tmp_path).subnet) == "10.9.0.0/24"
    with pytest.raises(StackConfigError, match=r"Pulumi\.missing\.yaml does not exist"):
        read_stack_config("missing", tmp_path)


def test_the_suggested_subnet_is_free_even_when_172_28_is_taken() -> None:
    others = {"big": ipaddress.IPv4Network("172.16.0.0/12")}
    with pytest.raises(StackConfigError) as caught:
        load_settings("dev", {}, other_subnets=others)
    assert caught.value.example == "192.168.77.0/24"
    load_settings("dev", {"ha-stack:subnet": caught.value.example}, other_subnets=others)
