"""JSON helpers shared by the service and the stores: merging, containment, normalising."""

from __future__ import annotations

import datetime
import json
import re
import uuid
from typing import Any

from ..errors import InvalidRequest
from .clock import timestamp

# The largest array a merge may create out of nothing but a `length` or an index key (see
# `_merge_object_into_array`). JavaScript would build arrays of up to 2**32 - 1 slots and then
# fail, or send hundreds of megabytes of nulls; no client relies on that, and a few bytes of
# request must not cost the server gigabytes.
MAX_GROWN_ARRAY_LENGTH = 100_000

_MAX_ARRAY_LENGTH = 2**32 - 1  # what JavaScript's Array length can hold
_MAX_SAFE_INTEGER = 2**53 - 1  # lodash's isLength bound
# A JavaScript array index: a canonical decimal below 2**32 - 1; any other key is a property.
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")
# JavaScript's WhiteSpace and LineTerminator, which Number() trims from a string.
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_TRIM = re.compile(f"^[{_JS_SPACE}]+|[{_JS_SPACE}]+$")
_JS_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_JS_RADIX = {"x": (re.compile(r"[0-9a-fA-F]+"), 16), "o": (re.compile(r"[0-7]+"), 8)}
_JS_RADIX["b"] = (re.compile(r"[01]+"), 2)


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """lodash's ``merge({}, base, changes)`` for JSON values, as the original service merged.

    Objects merge key by key; arrays merge index by index, an object or array element merging
    into the element at its index (so ``[]`` changes nothing and a shorter array changes only
    the first elements); ``null`` and other scalars replace. A value merged into a missing key
    is copied. The result shares nothing with ``base`` or ``changes``, which are left as they
    are. What JavaScript itself would refuse (an array ``length`` that is not a whole number
    from 0 to 2**32 - 1) raises InvalidRequest, as does growing an array through a ``length``
    or index key past MAX_GROWN_ARRAY_LENGTH.
    """
    # Literally merge({}, base, changes): merging `base` into a fresh object copies it (and
    # drops what lodash's copy drops), and that copy is then ours to change in place.
    merged: dict[str, Any] = {}
    _merge_object(merged, base)
    _merge_object(merged, changes)
    return merged


def _is_container(value: Any) -> bool:
    return isinstance(value, dict | list | tuple)


def _merged(current: Any, change: Any) -> Any:
    """What lodash leaves at a key holding ``current`` (owned by the result, so changed in
    place) once ``change`` is merged in. ``None`` stands for both null and a missing key:
    lodash treats undefined and null alike here, and JSON sends both as null."""
    if isinstance(change, list | tuple):
        if isinstance(current, list):
            target = current
        elif (length := _array_like_length(current)) is not None:
            # lodash copies an "array-like" object, one whose `length` is a whole number,
            # into an array of that length before merging: its other keys are lost and
            # indices it lacks are undefined, which JSON sends as null.
            target = [current.get(str(index)) for index in range(length)]
        else:
            # Into a scalar, null, missing key or ordinary object: a copy of the array.
            target = []
        _merge_array(target, change)
        return target
    if isinstance(change, dict):
        if isinstance(current, list):
            # An array is an object to lodash, so it is kept and the object's keys are set on
            # it as properties: only index keys and `length` survive into JSON.
            _merge_object_into_array(current, change)
            return current
        # Into an object it merges key by key; into a scalar, null or missing key, a copy.
        merged = current if isinstance(current, dict) else {}
        _merge_object(merged, change)
        return merged
    # null and other scalars replace, whatever was there (an equal value is left, which JSON
    # cannot tell apart).
    return change


def _merge_object(target: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if key == "__proto__" and _is_container(value):
            # lodash reads `__proto__` as undefined on both sides (its guard against prototype
            # pollution), so an object or array there is dropped and the key left as it was; a
            # scalar there is set as an ordinary key.
            continue
        target[key] = _merged(target.get(key), value)


def _merge_array(target: list[Any], changes: list[Any] | tuple[Any, ...]) -> None:
    # Index by index; elements past the end of the current array are appended.
    for index, value in enumerate(changes):
        if index < len(target):
            target[index] = _merged(target[index], value)
        else:
            target.append(_merged(None, value))


def _merge_object_into_array(target: list[Any], changes: dict[str, Any]) -> None:
    """An object's keys set on an array, as JavaScript would, seen through JSON: an index key
    merges into (or past the end of) the array, `length` truncates or pads it with nulls, and
    any other key becomes a property JSON drops. JavaScript visits index keys in ascending
    order and `length` after them, so an index past a new `length` is cut off again."""
    indices = sorted(
        (int(key), value)
        for key, value in changes.items()
        if isinstance(key, str) and _ARRAY_INDEX.fullmatch(key) and int(key) < _MAX_ARRAY_LENGTH
    )
    # Elements set past the end are kept aside until the final length is known, so that a
    # far index later cut off by `length` never materialises.
    past_end: dict[int, Any] = {}
    for index, value in indices:
        if index < len(target):
            target[index] = _merged(target[index], value)
        else:
            past_end[index] = _merged(None, value)
    length = max(past_end) + 1 if past_end else len(target)
    if "length" in changes:
        length = _array_length(changes["length"])
    if length > len(target) and length > MAX_GROWN_ARRAY_LENGTH:
        raise _unmergeable(f"an array would grow past {MAX_GROWN_ARRAY_LENGTH} elements")
    del target[length:]
    # The gaps JavaScript leaves are holes, which JSON sends as null.
    target.extend(past_end.get(index) for index in range(len(target), length))


def _array_like_length(value: Any) -> int | None:
    """The length of an object lodash treats as array-like, else None."""
    if not isinstance(value, dict):
        return None
    length = value.get("length")
    if isinstance(length, bool) or not isinstance(length, int | float):
        return None
    if not (length > -1 and length % 1 == 0 and length <= _MAX_SAFE_INTEGER):
        return None
    if length > _MAX_ARRAY_LENGTH:
        # JavaScript cannot make an array that long: RangeError.
        raise _unmergeable(f"an array length must be at most {_MAX_ARRAY_LENGTH}")
    if length > MAX_GROWN_ARRAY_LENGTH:
        raise _unmergeable(f"an array would grow past {MAX_GROWN_ARRAY_LENGTH} elements")
    return int(length)


def _array_length(value: Any) -> int:
    """What setting a JavaScript array's `length` to ``value`` sets it to; JavaScript throws a
    RangeError for anything that is not a whole number from 0 to 2**32 - 1."""
    number = _js_number(value)
    if number is None or not 0 <= number <= _MAX_ARRAY_LENGTH or number % 1:
        raise _unmergeable(f"an array length must be a whole number from 0 to {_MAX_ARRAY_LENGTH}")
    return int(number)


def _js_number(value: Any, *, in_array: bool = False) -> int | float | None:
    """JavaScript's Number(value) for a JSON value, None for NaN. An array converts through
    its text, the elements joined by commas (so only one element can give a number), where
    null becomes "" and true becomes "true"."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return None if in_array else int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return _js_string_number(value)
    if isinstance(value, list | tuple):
        if not value:
            return 0
        return _js_number(value[0], in_array=True) if len(value) == 1 else None
    return None  # an object's text is "[object Object]"


def _js_string_number(text: str) -> int | float | None:
    text = _JS_TRIM.sub("", text)
    if not text:
        return 0
    if len(text) > 2 and text[0] == "0" and text[1] in "xXoObB":
        pattern, base = _JS_RADIX[text[1].lower()]
        return int(text[2:], base) if pattern.fullmatch(text[2:]) else None
    if _JS_DECIMAL.fullmatch(text):
        return float(text.replace("Infinity", "inf"))
    return None


def _unmergeable(reason: str) -> InvalidRequest:
    return InvalidRequest(f"data cannot be merged: {reason}", {"data": "invalid"})


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch: ``patch`` applied to ``target``.

    An object patch merges into ``target`` key by key (into ``{}`` when ``target`` is not an
    object), recursively; a ``null`` in it deletes the key. Any other patch, arrays included,
    replaces ``target`` whole. Neither argument is changed and the result shares nothing with
    them.
    """
    if not isinstance(patch, dict):
        return _copy(patch)
    current = target if isinstance(target, dict) else {}
    result: dict[str, Any] = {}
    for key, value in current.items():
        if key not in patch:
            result[key] = _copy(value)
        elif patch[key] is not None:
            result[key] = merge_patch(value, patch[key])
    for key, value in patch.items():
        if key not in current and value is not None:
            result[key] = merge_patch(None, value)
    return result


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(item) for item in value]
    return value


def json_contains(document: Any, pattern: Any) -> bool:
    """PostgreSQL's ``jsonb @> jsonb`` for values nested inside an object.

    Objects contain objects key by key; an array contains an array when every element of the
    pattern is contained in some element of the document; scalars must be equal and of the
    same JSON type (``"1"`` is not ``1``, ``true`` is not ``1``).
    """
    if isinstance(pattern, dict):
        return isinstance(document, dict) and all(
            key in document and json_contains(document[key], value)
            for key, value in pattern.items()
        )
    if isinstance(pattern, list):
        return isinstance(document, list) and all(
            any(json_contains(item, wanted) for item in document) for wanted in pattern
        )
    return _json_type(document) == _json_type(pattern) and document == pattern


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def json_default(value: Any) -> Any:
    """How JSON answers render what hosts' decorators commonly add: dates and times in ISO
    form and UUIDs as text, as JavaScript's JSON.stringify would; anything else is an error."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return timestamp(value)  # Date.toISOString's form, as every timestamp we write
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def check_encodable(value: Any) -> None:
    """Raise TypeError or ValueError unless ``value`` can be sent as a JSON answer."""
    json.dumps(value, ensure_ascii=False, allow_nan=False, default=json_default).encode()


def to_json(value: Any) -> Any:
    """A JSON-safe copy: whatever JSON cannot hold becomes its string form (as a hook's
    ``meta.user`` is logged)."""
    return json.loads(json.dumps(value, default=str))
