"""Named views (docs/finding.md): a listing's query under a name, perhaps made per user, and
how a request's ``view=name`` is ANDed with its other parameters."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..errors import InvalidRequest
from .query import ListQuery, parse_list_query, restricted

ViewQuery = Mapping[str, Any] | Callable[[Any], Mapping[str, Any]]
VIEW_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# What of a view's query is not a filter: the request's own, when it gives them, wins.
_PAGING = ("sort", "limit", "offset")


@attrs.frozen
class View:
    name: str
    title: str
    query: ViewQuery

    def mapping(self, user: Any) -> Mapping[str, Any]:
        """The view's query for ``user``; its callable may raise ``Forbidden``."""
        found = self.query(user) if callable(self.query) else self.query
        if not isinstance(found, Mapping):
            raise TypeError(f"view {self.name!r} made {type(found).__name__}, not a mapping")
        if "view" in found:
            raise ValueError(f"view {self.name!r} names a view itself")
        return found


def make_view(name: object, query: object, title: object) -> View:
    """A view, checked where it is declared: a bad one is a bug in the host."""
    if not isinstance(name, str) or not VIEW_NAME_RE.fullmatch(name) or len(name) > 100:
        raise ValueError(f"a view's name is letters, digits, '_', '.' and '-': {name!r}")
    if title is not None and not isinstance(title, str):
        raise ValueError(f"a view's title is a string: {title!r}")
    if query is None:
        query = {}
    if not callable(query) and not isinstance(query, Mapping):
        raise ValueError(f"a view's query is a mapping or a callable (user) -> mapping: {query!r}")
    view = View(name, title if title is not None else name, query)
    if not callable(query):
        view.mapping(None)
        parse_list_query(query)  # an InvalidRequest here names what is wrong with it
    return view


def resolve(views: Mapping[str, View], query: Mapping[str, Any] | None, user: Any) -> ListQuery:
    """The listing query of a request: its parameters, and its view's filters ANDed in."""
    given = dict(query or {})
    name = given.pop("view", None)
    if name is None:
        return parse_list_query(given)
    if not isinstance(name, str):
        raise InvalidRequest("view must be the name of a view", {"view": "invalid"})
    view = views.get(name)
    if view is None:
        raise InvalidRequest("view is not a view of this flow", {"view": "unknown"})
    declared = view.mapping(user)
    # The view's sort and page apply unless the request gives its own.
    parsed = parse_list_query({**{k: declared[k] for k in _PAGING if k in declared}, **given})
    return restricted(parsed, parse_list_query(declared))
