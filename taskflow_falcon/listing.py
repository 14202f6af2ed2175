"""The listing's query string: the bracket syntax the original's clients send, as a mapping.

The original ran on Express, whose ``qs`` parser turns ``data[a][b]=x`` into nested objects
and ``status=a&status=b``, ``status[]=a`` or ``status[0]=a`` into lists. This module does the
same, producing the mapping that ``parse_list_query`` (taskflow_core/application/query.py)
validates; it judges no values itself, so the rules live in one place.
"""

from __future__ import annotations

import re
from typing import Any

from falcon.uri import parse_query_string

from taskflow_core.domain.validation import quoted
from taskflow_core.errors import InvalidRequest

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def split_key(key: str) -> list[str]:
    """``data[a][b]`` → ``["data", "a", "b"]``; a key with stray brackets stays whole, as in qs."""
    head, bracket, _ = key.partition("[")
    if not bracket or not head:
        return [key]
    rest = key[len(head) :]
    segments: list[str] = _SEGMENT.findall(rest)
    if "".join(f"[{s}]" for s in segments) != rest:
        return [key]
    return [head, *segments]


def _conflict(key: str) -> InvalidRequest:
    name = quoted(key)
    return InvalidRequest(f"{name} is given both as a value and as an object", {name: "invalid"})


def _insert(
    mapping: dict[str, Any], path: list[str], values: list[str], key: str, *, as_list: bool
) -> None:
    node = mapping
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise _conflict(key)
        node = child
    leaf = path[-1]
    existing = node.get(leaf)
    if isinstance(existing, dict):
        raise _conflict(key)
    if existing is not None:
        values = [*(existing if isinstance(existing, list) else [existing]), *values]
        as_list = True
    node[leaf] = values if as_list or len(values) > 1 else values[0]


def list_query_from_string(query_string: str) -> dict[str, Any]:
    """The listing mapping for a raw query string; repeated keys become lists."""
    # csv=False: a comma is part of a value (data[name]=Smith, J), never a separator.
    # keep_blank: ``limit=`` must reach validation (and fail) rather than silently vanish.
    pairs = parse_query_string(query_string, keep_blank=True, csv=False)
    mapping: dict[str, Any] = {}
    for key, raw in pairs.items():
        values = raw if isinstance(raw, list) else [raw]
        path = split_key(key)
        # qs reads a trailing ``[]`` or ``[0]`` as "append to a list".
        as_list = len(path) > 1 and (path[-1] == "" or path[-1].isdigit())
        if as_list:
            path = path[:-1]
        _insert(mapping, path, values, key, as_list=as_list)
    return mapping
