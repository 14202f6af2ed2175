"""The list query: what a listing may ask for, validated once, independent of any store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

import attrs

from ..domain.model import Case
from ..domain.ranges import TimeRange, parse_range
from ..domain.search import search_words
from ..domain.validation import check_storable, quoted
from ..errors import InvalidRequest
from .deadline_query import DUE, NO_DEADLINE_FILTERS, DeadlineFilters, parse_deadline_filters

SortColumn = Literal["createdAt", "updatedAt", "status", "assignedTo", "id", "due"]
# Each sort column of the listing, and the Case field (and so the stores' column) it orders by.
SORT_FIELDS: dict[SortColumn, str] = {
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "status": "status",
    "assignedTo": "assigned_to",
    "id": "id",
}
# "due" is no Case field: the earliest due of the case's deadlines (deadline_query.py).
SORT_COLUMNS: tuple[SortColumn, ...] = (*SORT_FIELDS, DUE)
EXCLUDE_KEYS = ("status", "assignedTo")
# A page's size, of a listing and of the change feed alike.
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_OFFSET = 2**63 - 1  # a SQL bigint
# How much case data (bytes of its JSON text, as the store measures it) a listing reads at
# once: the page's first statement reads cases up to it, and the rest of the page is read in
# batches of about as much. A parsed case takes a few times its text in Python, so this
# bounds a listing's memory at a few tens of MB whatever its size (docs/deploying.md).
LISTING_BUDGET = 4 * 1024 * 1024


# The fields of a list query that select cases; the others order and page them. Each is
# falsy when unset.
_FILTERS = (
    "statuses",
    "data",
    "assigned_to",
    "exclude_statuses",
    "exclude_assigned_to",
    "search",
    "unassigned",
    "created",
    "updated",
    "also",
    "deadlines",
)


@attrs.frozen
class ListQuery:
    """Filters are ANDed; each tuple is "any of". Ordering always ends with the case id."""

    statuses: tuple[str, ...] = ()
    data: dict[str, Any] = attrs.field(factory=dict)
    assigned_to: tuple[str, ...] = ()
    exclude_statuses: tuple[str, ...] = ()
    exclude_assigned_to: tuple[str, ...] = ()
    # None orders by creation; with the default ``ascending`` that is oldest first.
    sort_column: SortColumn | None = None
    ascending: bool = True
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    # Finding the work (docs/finding.md): the words of ``q``, each the start of a word of
    # the case's text; only unassigned cases; time ranges.
    search: tuple[str, ...] = ()
    unassigned: bool = False
    created: TimeRange = attrs.field(factory=TimeRange)
    updated: TimeRange = attrs.field(factory=TimeRange)
    # The filters of a named view, ANDed with these (their sort and page are not used).
    also: tuple[ListQuery, ...] = ()
    # Deadlines (docs/deadlines.md): only overdue cases, or cases due before a moment.
    deadlines: DeadlineFilters = NO_DEADLINE_FILTERS
    # Keyset paging, for readers that go through every match (an export): only the cases
    # whose id sorts after this one (ordered by id, that is the next page; an id never
    # changes, so a case changed meanwhile is neither skipped nor read twice). Not a
    # listing parameter: set by the reader, never parsed from a request.
    after_id: str | None = None
    # Whether the store counts the matches: a reader going page by page needs no count, and
    # counting every match for each page would read them all again and again. Uncounted,
    # a page's ``count`` is 0.
    counted: bool = True

    @property
    def sort_field(self) -> str:
        """The Case field the page is ordered by (then by id); ``due`` is none (a store
        orders by its cases' deadlines for it)."""
        if self.sort_column == DUE:
            return DUE
        return SORT_FIELDS[self.sort_column or "createdAt"]

    @property
    def by_status_alone(self) -> bool:
        """Whether the query filters by nothing but its statuses (perhaps none), so a
        store may count it from per-status counters."""
        return self.after_id is None and self.filters_only_by("statuses")

    def filters_only_by(self, *names: str) -> bool:
        """Whether every filter but ``names`` is unset (its sort, page and cursor aside)."""
        return not any(getattr(self, name) for name in _FILTERS if name not in names)


def restricted(query: ListQuery, *others: ListQuery) -> ListQuery:
    """``query`` with the filters of ``others`` ANDed in: what it selects, and only what each
    of them selects too. The page (sort, limit, offset) stays ``query``'s. Every listing,
    count and view applies a user's access scope through it (access.py), and so should
    anything else that selects cases by a listing's query (acting on many, exporting); a
    query that conflicts with a scope selects nothing."""
    for other in others:
        query = _and(query, other)
    return query


def _and(query: ListQuery, other: ListQuery) -> ListQuery:
    """``query`` with ``other``'s filters ANDed in. Where one of the two selects every case,
    or ``other`` selects by statuses alone and ``query`` by no status, the filters move into
    ``query`` rather than nesting in ``also``: a request for a view of statuses alone is then
    a query by statuses alone, which a store may count from its per-status counters (five
    views at 1,000,000 cases: benchmarks/results/finding-speed-1000000.md)."""
    if other.filters_only_by():
        return query
    if query.filters_only_by():
        return attrs.evolve(query, **{name: getattr(other, name) for name in _FILTERS})
    if not query.statuses and other.by_status_alone:
        return attrs.evolve(query, statuses=other.statuses)
    return attrs.evolve(query, also=(*query.also, other))


@attrs.frozen
class Deferred:
    """A case of a page whose data was not read with it: past the page's budget."""

    id: str
    size: int  # the store's measure of its data, bytes of JSON text


@attrs.frozen
class ListPage:
    """``cases`` in page order; then, when read within a budget, ``deferred``: the rest of
    the page, in order, to be read by id (``CaseRepository.get_many``)."""

    cases: list[Case]
    count: int
    deferred: list[Deferred] = attrs.field(factory=list)


@attrs.frozen
class EncodedPage:
    """A ``ListPage`` whose cases come as their answers' JSON text (``EncodedListings``)."""

    cases: list[str]
    count: int
    deferred: list[Deferred] = attrs.field(factory=list)


def within(budget: int, sizes: Sequence[int]) -> int:
    """How many of a page's first cases, with data of these sizes, are read within ``budget``:
    as many as fit, and the first whatever its size, so that a page always makes progress."""
    spent = 0
    for count, size in enumerate(sizes):
        spent += size
        if count and spent > budget:
            return count
    return len(sizes)


def _strings(name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise InvalidRequest(f"{name} must be a string or a list of strings", {name: "invalid"})
    check_storable(values, name)
    return tuple(values)


def _integer(name: str, value: Any, default: int, low: int, high: int | None) -> int:
    if value is None:
        return default
    if isinstance(value, bool):
        raise InvalidRequest(f"{name} must be an integer", {name: "invalid"})
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise InvalidRequest(f"{name} must be an integer", {name: "invalid"}) from None
    if not isinstance(value, int):
        raise InvalidRequest(f"{name} must be an integer", {name: "invalid"})
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidRequest(f"{name} must be {bounds}", {name: "out of range"})
    return value


def _boolean(name: str, value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise InvalidRequest(f"{name} must be true or false", {name: "invalid"})


def parse_list_query(query: Mapping[str, Any] | None) -> ListQuery:
    """Validate a listing request given with the HTTP listing's keys (docs/http.md, "Listing")."""
    q = dict(query or {})
    data = q.get("data") or {}
    if not isinstance(data, dict):
        raise InvalidRequest("data must be an object of filters", {"data": "invalid"})
    check_storable(data, "data")

    exclude = q.get("exclude") or {}
    if not isinstance(exclude, dict):
        raise InvalidRequest("exclude must be an object", {"exclude": "invalid"})
    unknown = sorted(set(exclude) - set(EXCLUDE_KEYS))
    if unknown:
        name = f"exclude[{quoted(unknown[0])}]"
        raise InvalidRequest(
            f"{name} is not supported; use one of: {', '.join(EXCLUDE_KEYS)}",
            {name: "unknown"},
        )

    sort = q.get("sort") or {}
    if not isinstance(sort, dict):
        raise InvalidRequest("sort must be an object", {"sort": "invalid"})
    column = sort.get("column")
    if column is not None and column not in SORT_COLUMNS:
        raise InvalidRequest(
            f"sort[column] must be one of: {', '.join(SORT_COLUMNS)}",
            {"sort[column]": "unknown"},
        )
    # Descending by default when a column is named, as the original, but for the soonest due,
    # which comes first unless asked otherwise. Only the exact words count: the original read
    # "TRUE" as descending, and reading it as ascending would silently reverse a client's
    # order (SPEC §3); anything else is refused.
    ascending = _boolean("sort[ascending]", sort.get("ascending"), column in (None, DUE))

    return ListQuery(
        statuses=_strings("status", q.get("status")),
        data=data,
        assigned_to=_strings("assignedTo", q.get("assignedTo")),
        exclude_statuses=_strings("exclude[status]", exclude.get("status")),
        exclude_assigned_to=_strings("exclude[assignedTo]", exclude.get("assignedTo")),
        sort_column=cast(SortColumn | None, column),
        ascending=ascending,
        limit=_integer("limit", q.get("limit"), DEFAULT_LIMIT, 0, MAX_LIMIT),
        offset=_integer("offset", q.get("offset"), 0, 0, MAX_OFFSET),
        search=search_words(q.get("q")),
        unassigned=_boolean("unassigned", q.get("unassigned"), False),
        created=parse_range("createdAt", q.get("createdAt")),
        updated=parse_range("updatedAt", q.get("updatedAt")),
        deadlines=parse_deadline_filters(q),
    )
