"""GeneratedSecret's provider: one value at creation, kept until the length changes."""

import string

from stacks.components.generated import _Provider, generate


def test_generated_values_are_alphanumeric_of_the_length_asked() -> None:
    values = {generate(32) for _ in range(50)}
    assert len(values) == 50
    assert all(len(v) == 32 and set(v) <= set(string.ascii_letters + string.digits) for v in values)


def test_create_makes_a_value_and_diff_keeps_it_unless_the_length_changes() -> None:
    provider = _Provider()
    created = provider.create({"length": 32, "value": None})
    assert created.outs is not None
    assert created.outs["length"] == 32
    assert len(created.outs["value"]) == 32
    same = provider.diff(created.id, created.outs, {"length": 32, "value": None})
    assert same.changes is False
    assert same.replaces == []
    longer = provider.diff(created.id, created.outs, {"length": 40, "value": None})
    assert longer.changes is True
    assert longer.replaces == ["length"]
