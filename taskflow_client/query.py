"""A listing's query mapping as the query string the server reads back into the same mapping.

The inverse of taskflow_falcon/listing.py: nested mappings become brackets
(``data[a][b]=x``), sequences repeat their key with ``[]`` (``status[]=a&status[]=b``, a list
even of one), booleans are ``true``/``false``, and every other value its text. ``None`` is
left out, as a key the caller did not give.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _pairs(prefix: str, value: object, out: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _pairs(f"{prefix}[{key}]", inner, out)
    elif isinstance(value, list | tuple | set | frozenset):
        out.extend((f"{prefix}[]", _text(item)) for item in value if item is not None)
    else:
        out.append((prefix, _text(value)))


def query_pairs(query: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """``{"status": ["a"], "data": {"town": "Leeds"}, "limit": 5}`` as
    ``[("status[]", "a"), ("data[town]", "Leeds"), ("limit", "5")]``."""
    out: list[tuple[str, str]] = []
    for key, value in (query or {}).items():
        _pairs(str(key), value, out)
    return out
