"""Who may see which case (SPEC §16, docs/access.md): the rules ``flow.access`` declares, and
where each is applied, in the core, so that a Python caller passing ``user=`` meets the same
rules as an HTTP client.

- ``read(user, case) -> bool``: a case the user may not read is answered ``NotFound``, as if
  it did not exist, by every read and every mutation naming it.
- ``scope(user) -> mapping | None``: a listing query ANDed into every listing, count and view
  (``restricted`` in query.py), so that no count includes what the user cannot see.
- ``feed(user) -> bool``: who may read the change feed (``Forbidden`` otherwise); once
  ``flow.access`` is declared and says nothing of the feed, nobody may.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..domain.model import Case
from ..domain.wire import case_to_wire
from ..errors import Forbidden, NotFound
from .query import ListQuery, parse_list_query, restricted

ReadRule = Callable[[Any, dict[str, Any]], bool]
ScopeRule = Callable[[Any], "Mapping[str, Any] | None"]
FeedRule = Callable[[Any], bool]

# The message of a case the user may not read: the one of a case that does not exist.
NOT_FOUND_MESSAGE = "Case not found"
FEED_REFUSED_MESSAGE = "You may not read the change feed"


def _callable_or_none(name: str, rule: object) -> None:
    if rule is not None and not callable(rule):
        raise ValueError(f"access {name} must be a callable or None: {rule!r}")


@attrs.frozen
class Access:
    """The rules a flow declared; each None when not given."""

    read: ReadRule | None = None
    scope: ScopeRule | None = None
    feed: FeedRule | None = None

    def __attrs_post_init__(self) -> None:
        _callable_or_none("read", self.read)
        _callable_or_none("scope", self.scope)
        _callable_or_none("feed", self.feed)

    def check_case(self, user: Any, case: Case) -> None:
        """NotFound unless ``user`` may read ``case``. The rule sees the case as a listing
        shows it (no activity log), before any decorator."""
        if self.read is not None:
            self.check_wire(user, case_to_wire(case))

    def check_wire(self, user: Any, case: dict[str, Any]) -> None:
        """``check_case`` for a case already in its wire form (its activity log, if read
        with it, is not shown to the rule)."""
        if self.read is None:
            return
        shown = {key: value for key, value in case.items() if key != "activityLog"}
        # Anything falsy refuses (None from a rule that forgot to answer, say).
        if not bool(self.read(user, shown)):
            raise NotFound(NOT_FOUND_MESSAGE)

    def scoped(self, user: Any, query: ListQuery) -> ListQuery:
        """``query`` with the user's scope ANDed in (unchanged without a scope, or when the
        scope answers None)."""
        if self.scope is None:
            return query
        found = self.scope(user)
        if found is None:
            return query
        if not isinstance(found, Mapping):
            raise TypeError(f"access scope made {type(found).__name__}, not a mapping or None")
        if "view" in found:
            raise ValueError("access scope names a view; give its filters instead")
        return restricted(query, parse_list_query(found))

    def check_feed(self, user: Any) -> None:
        """Forbidden unless ``feed(user)`` says yes; without ``feed``, nobody may."""
        if self.feed is None or not bool(self.feed(user)):
            raise Forbidden(FEED_REFUSED_MESSAGE)


def check_case(access: Access | None, user: Any, case: Case) -> None:
    """``Access.check_case``, when a flow declared access rules."""
    if access is not None:
        access.check_case(user, case)


def scoped(access: Access | None, user: Any, query: ListQuery) -> ListQuery:
    """``Access.scoped``, when a flow declared access rules."""
    return query if access is None else access.scoped(user, query)
