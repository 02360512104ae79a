"""The environment layer: every kind of value, its bounds and the one wording of its errors."""

from __future__ import annotations

import pytest

from app_support.env import (
    ConfigError,
    Env,
    check_count,
    check_seconds,
    config_message,
    parse_addresses,
    parse_url,
)
from app_support.redis import RedisConfigError


class OwnError(ConfigError):
    pass


def test_the_wording() -> None:
    assert config_message("X", "is bad", "1") == "X: is bad; for example X=1"
    error = ConfigError("X", "is bad", "1")
    assert (str(error), error.variable, error.problem, error.example) == (
        "X: is bad; for example X=1",
        "X",
        "is bad",
        "1",
    )
    assert isinstance(error, ValueError)


def test_unset_and_blank_mean_the_default() -> None:
    env = Env({"BLANK": "  "})
    assert env.raw("BLANK") is None
    assert env.text("BLANK", "d") == "d"
    assert env.flag("UNSET", True) is True
    assert env.millis("UNSET", 2.0) == 2.0
    assert env.count("UNSET", 3) == 3
    assert env.port("UNSET", None) is None
    assert env.addresses("UNSET", example="h:1") == ()
    assert env.choice("UNSET", ("a", "b"), "b") == "b"
    assert env.secret("UNSET") is None
    assert Env({"S": " pw "}).secret("S") == " pw "  # passwords are taken as set


def test_values() -> None:
    env = Env(
        {
            "F": "Yes",
            "OFF": "0",
            "M": " 1500 ",
            "C": "7",
            "P": "65535",
            "CH": "PROD",
            "U": "x://h:1",
        }
    )
    assert (env.flag("F", False), env.flag("OFF", True)) == (True, False)
    assert env.millis("M", 1.0) == 1.5
    assert env.count("C", 1) == 7
    assert env.port("P", 80) == 65535
    assert env.choice("CH", ("dev", "PROD"), "dev") == "PROD"
    assert env.url("U", "", schemes=("x",), example="x://h") == "x://h:1"
    assert parse_addresses("A", "[::1]:1, h:2,", example="h:1") == (("::1", 1), ("h", 2))


@pytest.mark.parametrize(
    ("environ", "call", "message"),
    [
        ({"V": "maybe"}, lambda e: e.flag("V", False), "V: 'maybe' is not true or false"),
        ({"V": "x"}, lambda e: e.choice("V", ("a", "b"), "a"), "V: 'x' is not one of a, b"),
        ({"V": "inf"}, lambda e: e.millis("V", 2.0), "V: 'inf' is not a finite number of"),
        ({"V": "nan"}, lambda e: e.millis("V", 2.0), "V: 'nan' is not a finite number of"),
        ({"V": "2s"}, lambda e: e.millis("V", 2.0), "V: '2s' is not a finite number of"),
        ({"V": "-1"}, lambda e: e.millis("V", 2.0), "V: '-1' is out of range (0 to 86400000"),
        ({"V": "1e10"}, lambda e: e.millis("V", 2.0), "V: '1e10' is out of range"),
        ({"V": "\u00b2"}, lambda e: e.count("V", 1), "V: '\u00b2' is not a whole number"),
        ({"V": "\u0663"}, lambda e: e.count("V", 1), "V: '\u0663' is not a whole number"),
        ({"V": "1.5"}, lambda e: e.count("V", 1), "V: '1.5' is not a whole number"),
        ({"V": "99999"}, lambda e: e.port("V", 80), "V: '99999' is out of range (1 to 65535)"),
        ({"V": "0"}, lambda e: e.port("V", 80), "V: '0' is out of range (1 to 65535)"),
        ({"V": "h"}, lambda e: e.addresses("V", example="h:1"), "V: 'h' has no port"),
        ({"V": ","}, lambda e: e.addresses("V", example="h:1"), "V: no host:port given"),
        ({"V": "h:0"}, lambda e: e.addresses("V", example="h:1"), "V: 'h:0' has no TCP port"),
        ({"V": "[::1:5"}, lambda e: e.addresses("V", example="h:1"), "V: '[::1:5' has an uncl"),
        ({"V": "x://[::1"}, lambda e: e.url("V", "", schemes=("x",), example="x://h"),
         "V: 'x://[::1' is not a valid URL"),
        ({"V": "x://h:99999"}, lambda e: e.url("V", "", schemes=("x",), example="x://h"),
         "V: 'x://h:99999' is not a valid URL"),
        ({"V": "y://u:pw@h"}, lambda e: e.url("V", "", schemes=("x",), example="x://h"),
         "V: 'y://u:***@h' is not a x:// URL"),
    ],
)  # fmt: skip
def test_errors_name_the_variable_and_a_good_value(
    environ: dict[str, str], call: object, message: str
) -> None:
    with pytest.raises(OwnError) as caught:
        call(Env(environ, error=OwnError))  # type: ignore[operator]
    assert str(caught.value).startswith(message)
    assert "; for example V=" in str(caught.value)
    assert caught.value.variable == "V"


def test_the_callers_error_type_is_raised() -> None:
    with pytest.raises(RedisConfigError, match=r"^REDIS_X: 'inf'"):
        Env({"REDIS_X": "inf"}, error=RedisConfigError).millis("REDIS_X", 1.0)
    with pytest.raises(OwnError, match=r"^E: is broken; for example E=1$"):
        Env({}, error=OwnError).fail("E", "is broken", 1)
    with pytest.raises(ConfigError, match="is not a x:// or y:// URL"):
        parse_url("U", "z://h", schemes=("x", "y"), example="x://h")


@pytest.mark.parametrize("value", [True, "5", float("inf"), float("nan"), -1, None])
def test_keyword_seconds_are_numbers_in_range(value: object) -> None:
    with pytest.raises(ConfigError, match=r"^timeout: "):
        check_seconds("timeout", value, example=1)


@pytest.mark.parametrize("value", [True, 1.0, "3", -1, 2_000_000])
def test_keyword_counts_are_whole_numbers_in_range(value: object) -> None:
    with pytest.raises(ConfigError, match=r"^size: "):
        check_count("size", value, example=1)
    assert check_count("size", 3, example=1) == 3
    assert check_seconds("timeout", 0.5, example=1) == 0.5
