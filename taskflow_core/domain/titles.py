"""A case's title: the one line a person recognises it by in a list (SPEC §15).

A host names it with ``flow.title(fn)``; without one, the first of the data's usual fields
that holds text, else the case's id, so that every row of a list has something to click.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Titler = Callable[[Mapping[str, Any]], Any]

DEFAULT_FIELDS = ("title", "subject", "name")


def default_title(case: Mapping[str, Any]) -> str:
    """``data.title``, ``data.subject`` or ``data.name`` (the first that is non-empty
    text or a number), else the id."""
    data = case.get("data")
    if isinstance(data, Mapping):
        for field in DEFAULT_FIELDS:
            value = data.get(field)
            if isinstance(value, str) and value.strip():
                return value.strip()
            if isinstance(value, int | float) and not isinstance(value, bool):
                return str(value)
    return str(case.get("id", ""))


def title_with(fn: Titler | None, case: Mapping[str, Any]) -> str:
    """``fn(case)`` as text; the default title when there is no ``fn`` or it answers
    nothing (None or blank), so a host's function need not handle every case."""
    if fn is None:
        return default_title(case)
    value = fn(case)
    text = "" if value is None else str(value).strip()
    return text or default_title(case)
