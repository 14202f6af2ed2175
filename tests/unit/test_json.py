"""Deep merge and PostgreSQL-compatible JSON containment."""

from typing import Any

import pytest

from taskflow_core.domain.json_values import deep_merge, json_contains, to_json


def test_deep_merge_merges_objects_and_arrays_and_replaces_scalars() -> None:
    base = {"a": {"b": 1, "c": {"d": 1}}, "l": [1, 5], "s": 1}
    assert deep_merge(base, {"a": {"c": {"e": 2}}, "l": [2], "s": {"x": 1}}) == {
        "a": {"b": 1, "c": {"d": 1, "e": 2}},
        "l": [2, 5],
        "s": {"x": 1},
    }
    assert base == {"a": {"b": 1, "c": {"d": 1}}, "l": [1, 5], "s": 1}


@pytest.mark.parametrize(
    ("document", "pattern", "expected"),
    [
        ({"a": 1, "b": 2}, {"a": 1}, True),
        ({"a": {"b": {"c": "x"}, "d": 1}}, {"a": {"b": {"c": "x"}}}, True),
        ({"a": "1"}, {"a": 1}, False),
        ({"a": 1}, {"a": True}, False),
        ({"a": True}, {"a": True}, True),
        ({"a": None}, {"a": None}, True),
        ({}, {"a": None}, False),
        ({"a": [1, 2, 3]}, {"a": [3, 1]}, True),
        ({"a": [1, 2]}, {"a": [4]}, False),
        ({"a": [{"x": 1, "y": 2}]}, {"a": [{"x": 1}]}, True),
        ({"a": [1, 2]}, {"a": 1}, False),
        ({"a": 1.0}, {"a": 1}, True),
        ({"a": {"b": 1}}, {"a": {}}, True),
    ],
)
def test_containment_follows_postgresql(document: Any, pattern: Any, expected: bool) -> None:
    assert json_contains(document, pattern) is expected


def test_to_json_turns_the_unserialisable_into_text() -> None:
    class Thing:
        def __str__(self) -> str:
            return "thing"

    assert to_json({"user": Thing(), "n": [1, None]}) == {"user": "thing", "n": [1, None]}
