"""PUT's deep merge (the original's lodash merge) and PATCH's JSON Merge Patch (RFC 7396)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from taskflow_core.domain.json_values import MAX_GROWN_ARRAY_LENGTH, deep_merge, merge_patch
from taskflow_core.errors import InvalidRequest

# Every expected value in DEEP_MERGE_CASES and DEEP_MERGE_REFUSALS was checked against lodash
# 4.17.21 (`JSON.stringify(_.merge({}, base, changes))`, or the RangeError it throws), which
# is what the original service answered a PUT with.
DEEP_MERGE_CASES = [
    # What the differential run against the original observed.
    pytest.param(
        {"a": 1, "t": ["a", "b"], "o": {"x": 1, "y": [{"p": 1, "q": 2}]}},
        {"a": None, "t": [], "o": {"y": [{"p": 9}], "z": 2}},
        {"a": None, "t": ["a", "b"], "o": {"x": 1, "y": [{"p": 9, "q": 2}], "z": 2}},
        id="null-replaces,empty-array-keeps-all,object-element-merges-into-its-index",
    ),
    pytest.param(
        {"t": [1, 2, 3]},
        {"t": [9]},
        {"t": [9, 2, 3]},
        id="shorter-array-replaces-only-the-leading-elements",
    ),
    pytest.param({"t": "s"}, {"t": {"a": 1}}, {"t": {"a": 1}}, id="object-replaces-a-string"),
    # Objects.
    pytest.param(
        {"a": {"b": 1, "c": {"d": 1}}, "k": True},
        {"a": {"c": {"e": 2}}},
        {"a": {"b": 1, "c": {"d": 1, "e": 2}}, "k": True},
        id="nested-objects-merge-key-by-key",
    ),
    pytest.param({"a": 1}, {"b": {"c": [1]}}, {"a": 1, "b": {"c": [1]}}, id="new-key-is-added"),
    pytest.param({"o": {"a": 1}}, {"o": {}}, {"o": {"a": 1}}, id="empty-object-changes-nothing"),
    pytest.param({"a": {"b": [1]}}, {}, {"a": {"b": [1]}}, id="no-changes-leaves-data-alone"),
    pytest.param({}, {"a": [{"b": 1}]}, {"a": [{"b": 1}]}, id="empty-data-takes-the-changes"),
    pytest.param(
        {"o": {"a": {"b": 1}, "c": 2}},
        {"o": {"a": None}},
        {"o": {"a": None, "c": 2}},
        id="nested-null-replaces-the-value-and-keeps-the-key",
    ),
    pytest.param(
        {"a": True, "b": 1, "c": "x", "d": [1]},
        {"a": False, "b": 0, "c": "", "d": [0]},
        {"a": False, "b": 0, "c": "", "d": [0]},
        id="false-zero-and-empty-string-replace",
    ),
    # null and scalars replace objects and arrays, in both directions.
    pytest.param({"o": {"a": 1}}, {"o": None}, {"o": None}, id="null-replaces-an-object"),
    pytest.param({"t": [1]}, {"t": None}, {"t": None}, id="null-replaces-an-array"),
    pytest.param({"o": {"a": 1}}, {"o": 1}, {"o": 1}, id="number-replaces-an-object"),
    pytest.param({"t": [1, 2]}, {"t": "x"}, {"t": "x"}, id="string-replaces-an-array"),
    pytest.param({"o": None}, {"o": {"a": 1}}, {"o": {"a": 1}}, id="object-replaces-null"),
    pytest.param({"o": 1}, {"o": {}}, {"o": {}}, id="empty-object-replaces-a-number"),
    pytest.param({"t": "x"}, {"t": [1]}, {"t": [1]}, id="array-replaces-a-string"),
    pytest.param({"t": None}, {"t": [1, {"a": 1}]}, {"t": [1, {"a": 1}]}, id="array-replaces-null"),
    # Arrays into arrays.
    pytest.param({"t": [1, 2]}, {"t": []}, {"t": [1, 2]}, id="empty-array-changes-nothing"),
    pytest.param({"t": [1]}, {"t": [7, 8, 9]}, {"t": [7, 8, 9]}, id="longer-array-appends"),
    pytest.param({"t": []}, {"t": [1, 2]}, {"t": [1, 2]}, id="array-fills-an-empty-array"),
    pytest.param(
        {"t": [1, 2]}, {"t": [None]}, {"t": [None, 2]}, id="null-element-replaces-its-element"
    ),
    pytest.param(
        {"t": [1, 2]},
        {"t": [{"a": 1}]},
        {"t": [{"a": 1}, 2]},
        id="object-element-replaces-a-scalar-element",
    ),
    pytest.param(
        {"t": [{"a": 1}, 2]}, {"t": [5]}, {"t": [5, 2]}, id="scalar-element-replaces-an-object"
    ),
    pytest.param(
        {"m": [[1, 2], [3, 4]]},
        {"m": [[9], []]},
        {"m": [[9, 2], [3, 4]]},
        id="nested-arrays-merge-index-by-index",
    ),
    pytest.param(
        {"t": [{"a": 1}]},
        {"t": [[1]]},
        {"t": [[1]]},
        id="array-element-replaces-an-object-element",
    ),
    pytest.param(
        {"l": [{"m": [1, {"n": 1}]}]},
        {"l": [{"m": [None, {"o": 2}]}]},
        {"l": [{"m": [None, {"n": 1, "o": 2}]}]},
        id="arrays-in-objects-in-arrays-merge-all-the-way-down",
    ),
    # Arrays into objects: an ordinary object is replaced, an "array-like" one (a whole
    # number under `length`) is first made an array of that length.
    pytest.param({"o": {"a": 1}}, {"o": [1, 2]}, {"o": [1, 2]}, id="array-replaces-an-object"),
    pytest.param(
        {"o": {"length": 2, "0": "a", "1": "b", "x": 1}},
        {"o": ["z"]},
        {"o": ["z", "b"]},
        id="array-merges-into-an-object-with-length-and-index-keys",
    ),
    pytest.param(
        {"o": {"length": 3, "0": "a"}},
        {"o": ["z"]},
        {"o": ["z", None, None]},
        id="array-into-an-object-with-length-pads-with-null",
    ),
    pytest.param(
        {"o": {"length": "2", "0": "a"}},
        {"o": ["z"]},
        {"o": ["z"]},
        id="array-replaces-an-object-whose-length-is-a-string",
    ),
    # Objects into arrays: the array stays; index keys and `length` reach it, others vanish.
    pytest.param({"t": [1, 2]}, {"t": {"a": 1}}, {"t": [1, 2]}, id="object-into-array-is-lost"),
    pytest.param({"t": [1]}, {"t": {}}, {"t": [1]}, id="empty-object-into-array-keeps-it"),
    pytest.param(
        {"t": [1, 2]}, {"t": {"1": 9}}, {"t": [1, 9]}, id="object-index-key-sets-that-element"
    ),
    pytest.param(
        {"t": [{"a": 1}]},
        {"t": {"0": {"b": 2}}},
        {"t": [{"a": 1, "b": 2}]},
        id="object-index-key-merges-into-that-element",
    ),
    pytest.param(
        {"t": [1]},
        {"t": {"3": "x"}},
        {"t": [1, None, None, "x"]},
        id="object-index-key-past-the-end-pads-with-null",
    ),
    pytest.param(
        {"t": [1, 2]},
        {"t": {"01": 9, "-1": 9, "1.0": 9}},
        {"t": [1, 2]},
        id="object-key-that-is-not-a-plain-index-is-lost",
    ),
    pytest.param(
        {"t": [1, 2, 3]}, {"t": {"length": 1}}, {"t": [1]}, id="object-length-truncates-array"
    ),
    pytest.param(
        {"t": [1]},
        {"t": {"length": " 3 "}},
        {"t": [1, None, None]},
        id="object-length-as-text-pads-array-with-null",
    ),
    pytest.param(
        {"t": [1, 2]},
        {"t": {"length": None}},
        {"t": []},
        id="object-length-null-empties-array",
    ),
    pytest.param(
        {"t": [1, 2, 3]},
        {"t": {"length": ["1"]}},
        {"t": [1]},
        id="object-length-as-one-element-array-counts-as-that-element",
    ),
    pytest.param(
        {"t": [1, 2]},
        {"t": {"5": "x", "length": 2}},
        {"t": [1, 2]},
        id="object-length-applies-after-its-index-keys",
    ),
    pytest.param(
        {"t": [[1, 2]]},
        {"t": [{"0": 9}]},
        {"t": [[9, 2]]},
        id="object-element-into-array-element-sets-its-index",
    ),
    # Keys JavaScript treats specially.
    pytest.param({}, {"__proto__": {"x": 1}}, {}, id="proto-key-with-object-is-dropped"),
    pytest.param(
        {"__proto__": 1}, {"__proto__": [1]}, {"__proto__": 1}, id="proto-key-keeps-its-scalar"
    ),
    pytest.param({}, {"__proto__": 1}, {"__proto__": 1}, id="proto-key-with-scalar-is-kept"),
    pytest.param(
        {"__proto__": {"x": 1}, "a": 1},
        {"b": 2},
        {"a": 1, "b": 2},
        id="proto-key-with-object-in-data-is-dropped-by-any-merge",
    ),
    pytest.param(
        {"constructor": {"a": 1}, "toString": 1},
        {"constructor": {"b": 2}, "toString": {"c": 3}},
        {"constructor": {"a": 1, "b": 2}, "toString": {"c": 3}},
        id="constructor-and-tostring-are-ordinary-keys",
    ),
]

DEEP_MERGE_REFUSALS = [
    pytest.param({"t": [1]}, {"t": {"length": "abc"}}, id="length-that-is-not-a-number"),
    pytest.param({"t": [1]}, {"t": {"length": 1.5}}, id="length-that-is-fractional"),
    pytest.param({"t": [1]}, {"t": {"length": -1}}, id="length-that-is-negative"),
    pytest.param({"t": [1]}, {"t": {"length": {}}}, id="length-that-is-an-object"),
    pytest.param({"t": [1]}, {"t": {"length": [1, 2]}}, id="length-that-is-a-longer-array"),
    pytest.param({"t": [1]}, {"t": {"length": [True]}}, id="length-that-is-an-array-of-true"),
    pytest.param({"t": [1]}, {"t": {"length": 2**32}}, id="length-past-what-javascript-holds"),
    pytest.param({"o": {"length": 5e9}}, {"o": ["z"]}, id="array-into-object-with-huge-length"),
]


def _canonical(value: Any) -> str:
    # `==` takes True for 1 and 1 for 1.0; JSON text tells them apart.
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize(("base", "changes", "expected"), DEEP_MERGE_CASES)
def test_deep_merge_is_lodash_merge(
    base: dict[str, Any], changes: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert _canonical(deep_merge(base, changes)) == _canonical(expected)


@pytest.mark.parametrize(("base", "changes"), DEEP_MERGE_REFUSALS)
def test_deep_merge_refuses_what_javascript_throws_on(
    base: dict[str, Any], changes: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        deep_merge(base, changes)
    assert raised.value.errors == {"data": "invalid"}


def test_deep_merge_grows_arrays_from_a_length_or_index_key_only_so_far() -> None:
    grown = deep_merge({"t": []}, {"t": {"length": MAX_GROWN_ARRAY_LENGTH}})
    assert grown == {"t": [None] * MAX_GROWN_ARRAY_LENGTH}
    for changes in (
        {"t": {"length": MAX_GROWN_ARRAY_LENGTH + 1}},
        {"t": {str(MAX_GROWN_ARRAY_LENGTH): 1}},
    ):
        with pytest.raises(InvalidRequest):
            deep_merge({"t": []}, changes)
    with pytest.raises(InvalidRequest):
        deep_merge({"o": {"length": MAX_GROWN_ARRAY_LENGTH + 1}}, {"o": []})
    # Cut back by `length`, a far index never builds the long array.
    assert deep_merge({"t": [1]}, {"t": {"4000000000": 1, "length": 1}}) == {"t": [1]}


MERGE_PATCH_CASES = [
    # RFC 7396, Appendix A, in its order.
    pytest.param({"a": "b"}, {"a": "c"}, {"a": "c"}, id="rfc-replaces-a-value"),
    pytest.param({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}, id="rfc-adds-a-key"),
    pytest.param({"a": "b"}, {"a": None}, {}, id="rfc-null-deletes-the-only-key"),
    pytest.param({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}, id="rfc-null-deletes-a-key"),
    pytest.param({"a": ["b"]}, {"a": "c"}, {"a": "c"}, id="rfc-string-replaces-an-array"),
    pytest.param({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}, id="rfc-array-replaces-a-string"),
    pytest.param(
        {"a": {"b": "c"}},
        {"a": {"b": "d", "c": None}},
        {"a": {"b": "d"}},
        id="rfc-nested-object-merges-and-null-for-a-missing-key-is-ignored",
    ),
    pytest.param(
        {"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}, id="rfc-array-replaces-an-array-whole"
    ),
    pytest.param(["a", "b"], ["c", "d"], ["c", "d"], id="rfc-array-patch-replaces-an-array"),
    pytest.param({"a": "b"}, ["c"], ["c"], id="rfc-array-patch-replaces-an-object"),
    pytest.param({"a": "foo"}, None, None, id="rfc-null-patch-replaces-everything"),
    pytest.param({"a": "foo"}, "bar", "bar", id="rfc-string-patch-replaces-everything"),
    pytest.param({"e": None}, {"a": 1}, {"e": None, "a": 1}, id="rfc-existing-null-is-kept"),
    pytest.param([1, 2], {"a": "b", "c": None}, {"a": "b"}, id="rfc-object-patch-over-an-array"),
    pytest.param(
        {},
        {"a": {"bb": {"ccc": None}}},
        {"a": {"bb": {}}},
        id="rfc-nulls-in-a-new-object-are-dropped",
    ),
    # Beyond the appendix.
    pytest.param(
        {"a": {"b": {"c": 1, "d": 2}}, "e": 3},
        {"a": {"b": {"c": None}}},
        {"a": {"b": {"d": 2}}, "e": 3},
        id="nested-null-deletes-a-nested-key",
    ),
    pytest.param({"t": [1, 2, 3]}, {"t": [9]}, {"t": [9]}, id="shorter-array-shrinks-the-array"),
    pytest.param({"t": [1, 2]}, {"t": []}, {"t": []}, id="empty-array-empties-the-array"),
    pytest.param({"o": {"a": 1}}, {"o": {}}, {"o": {"a": 1}}, id="empty-object-changes-nothing"),
    pytest.param({"o": 1}, {"o": {"a": None}}, {"o": {}}, id="object-patch-replaces-a-scalar"),
    pytest.param({"a": 1}, {}, {"a": 1}, id="empty-patch-changes-nothing"),
    pytest.param(
        {"t": [{"a": 1}]},
        {"t": [{"b": None}]},
        {"t": [{"b": None}]},
        id="nulls-inside-an-array-are-kept",
    ),
]


@pytest.mark.parametrize(("target", "patch", "expected"), MERGE_PATCH_CASES)
def test_merge_patch_is_rfc_7396(target: Any, patch: Any, expected: Any) -> None:
    assert _canonical(merge_patch(target, patch)) == _canonical(expected)


def _containers(value: Any) -> list[Any]:
    found = [value] if isinstance(value, dict | list) else []
    children = value.values() if isinstance(value, dict) else value if found else []
    for child in children:
        found.extend(_containers(child))
    return found


def _assert_no_mutation_or_sharing(merge: Any, first: Any, second: Any) -> None:
    before = copy.deepcopy((first, second))
    result = merge(first, second)
    assert _canonical((first, second)) == _canonical(before)
    inputs = {id(container) for container in _containers(first) + _containers(second)}
    assert not [c for c in _containers(result) if id(c) in inputs]
    # And changing the result changes neither input.
    for container in _containers(result):
        if isinstance(container, dict):
            container["added"] = 1
        else:
            container.append("added")
    assert _canonical((first, second)) == _canonical(before)


@pytest.mark.parametrize(("base", "changes", "expected"), DEEP_MERGE_CASES)
def test_deep_merge_leaves_its_inputs_alone_and_shares_nothing(
    base: dict[str, Any], changes: dict[str, Any], expected: dict[str, Any]
) -> None:
    _assert_no_mutation_or_sharing(deep_merge, base, changes)


@pytest.mark.parametrize(("target", "patch", "expected"), MERGE_PATCH_CASES)
def test_merge_patch_leaves_its_inputs_alone_and_shares_nothing(
    target: Any, patch: Any, expected: Any
) -> None:
    _assert_no_mutation_or_sharing(merge_patch, target, patch)


def test_a_value_merged_into_a_missing_key_is_a_copy() -> None:
    shared = {"x": [1, {"y": 2}]}
    changes = {"a": shared, "b": shared}
    result = deep_merge({"c": shared}, changes)
    assert result == {"c": shared, "a": shared, "b": shared}
    assert result["a"] is not result["b"]
    assert result["a"]["x"] is not shared["x"]
    assert result["c"]["x"][1] is not shared["x"][1]
    patched = merge_patch({"c": shared}, changes)
    assert patched["a"] is not patched["b"]
    assert patched["c"]["x"][1] is not shared["x"][1]
