"""Finding the work (docs/finding.md): named views, their counts for a user, and counts of a
listing's cases grouped by status or assignee. The ``Taskflow`` methods delegate here."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from ..errors import InvalidRequest
from ..ports import Store
from .access import Access, scoped
from .query import ListQuery
from .views import View, ViewQuery, make_view, resolve

CountBy = Literal["status", "assignedTo"]
# Each grouping of counts, and the Case field (and so the stores' column) it groups by.
COUNT_FIELDS: dict[CountBy, str] = {"status": "status", "assignedTo": "assigned_to"}


def count_field(by: object) -> str:
    """The Case field ``by`` groups on; 400 for anything but the two groupings."""
    if not isinstance(by, str) or by not in COUNT_FIELDS:
        raise InvalidRequest(
            f"by must be one of: {', '.join(COUNT_FIELDS)}",
            {"by": "missing" if by is None else "unknown"},
        )
    return COUNT_FIELDS[by]


def counts_body(groups: list[tuple[str | None, int]]) -> dict[str, Any]:
    """``{"data": [{"value", "count"}], "meta": {"count": total}}``: by count descending,
    then value ascending, null last."""
    ordered = sorted(
        (group for group in groups if group[1] > 0),
        key=lambda group: (-group[1], group[0] is None, group[0] or ""),
    )
    return {
        "data": [{"value": value, "count": count} for value, count in ordered],
        "meta": {"count": sum(count for _, count in ordered)},
    }


class Finding:
    """A flow's views, and the reads that find cases through them. Thread-safe."""

    def __init__(self, store: Store, access: Callable[[], Access | None]) -> None:
        self._store = store
        # The flow's access rules of this moment (flow.access may be declared later).
        self._access = access
        self._lock = threading.Lock()
        # Replaced, never changed in place: a request reads the views of one moment.
        self._views: dict[str, View] = {}

    def declare(self, name: str, query: ViewQuery | None, title: str | None) -> None:
        view = make_view(name, query, title)
        with self._lock:
            self._views = {**self._views, name: view}

    def query(self, query: Mapping[str, Any] | None, user: Any) -> ListQuery:
        """A listing request's query, its view (``view=name``) and the user's access scope
        ANDed in: what every listing, count and view of cases for ``user`` reads."""
        return scoped(self._access(), user, resolve(self._views, query, user))

    def views(self, user: Any) -> list[dict[str, Any]]:
        views = list(self._views.values())
        access = self._access()
        queries = [
            scoped(access, user, resolve({v.name: v}, {"view": v.name}, user)) for v in views
        ]
        with self._store.unit_of_work(read_only=True) as uow:
            counts = [uow.cases.list(attrs.evolve(q, limit=0, offset=0)).count for q in queries]
        return [
            {"name": view.name, "title": view.title, "count": count}
            for view, count in zip(views, counts, strict=True)
        ]

    def counts(self, by: object, query: Mapping[str, Any] | None, user: Any) -> dict[str, Any]:
        field = count_field(by)
        parsed = self.query(query, user)
        with self._store.unit_of_work(read_only=True) as uow:
            groups = uow.cases.count_by(parsed, field)
        return counts_body(groups)
