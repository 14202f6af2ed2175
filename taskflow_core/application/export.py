"""Taking cases out (SPEC §18): every case a listing query matches, read page by page, and
written as NDJSON or CSV.

The pages go by id (keyset paging: each page is the cases whose id sorts after the last
one read), never by offset: a page costs the same at the millionth case as at the first,
nothing is counted, and since an id never changes, a case changed while the export runs
is read exactly once. Each page is a read of its own within the listing's memory budget
(query.LISTING_BUDGET), so memory does not grow with the number of cases, and no
connection is held while the caller (a slow client) takes its time.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TextIO, TypeVar

import attrs

from ..domain.deadlines import NO_DEADLINES, Deadlines
from ..domain.model import Case, DeadlineState
from ..domain.wire import case_to_wire, encode_json
from ..errors import InvalidRequest
from ..ports import EncodedListings, Store
from . import query as query_module
from .answers import Decorators, deadlines_of, decorated
from .listing import read_deferred
from .query import EncodedPage, ListQuery

# Cases a page reads (within the memory budget too): enough that a round trip per page
# costs little beside the cases themselves.
PAGE_SIZE = 1000
T = TypeVar("T")
FORMATS = ("ndjson", "csv")
# The CSV's first columns; then one per top-level data key of the first rows.
CASE_COLUMNS = ("id", "status", "assignedTo", "createdAt", "updatedAt")
# How many cases decide the CSV's data columns: they are written first, so they wait in
# memory until the header can be.
CSV_HEADER_ROWS = 1000
# How many rows are written (and sent on) as one text: a write per row cost as much as the
# row's cells.
CSV_ROWS_AT_ONCE = 256
# A cell starting with one of these, a spreadsheet may run as a formula (CSV injection,
# OWASP): such a cell is written with a leading apostrophe, which shows it as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def check_format(value: object) -> str:
    if value not in FORMATS:
        raise InvalidRequest(
            f"format must be one of: {', '.join(FORMATS)}",
            {"format": "required" if value is None else "invalid"},
        )
    return str(value)


def pages(selection: ListQuery) -> ListQuery:
    """The first page's query: ``selection``'s filters, by id, uncounted. Its sort and
    paging do not apply: an export is every match, in id order."""
    return attrs.evolve(
        selection,
        sort_column="id",
        ascending=True,
        limit=PAGE_SIZE,
        offset=0,
        after_id=None,
        counted=False,
    )


def export(
    store: Store,
    selection: ListQuery,
    decorators: Decorators,
    user: Any,
    deadlines: Deadlines = NO_DEADLINES,
    budget: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Every case ``selection`` matches, as a listing shows it (wire form, deadlines,
    decorators that apply to listings), in id order. Where the store writes a case's JSON
    itself and nothing is added to it, each case is that text parsed (what the store's own
    read parses, the same values), sparing the worker a ``Case`` and its wire form each."""
    if budget is None:
        budget = query_module.LISTING_BUDGET  # looked up now, so a test can lower it
    if _store_writes(store, decorators, deadlines):
        yield from _written(store, selection, budget, True, json.loads, case_to_wire)
        return
    page_query = pages(selection)
    while True:
        with store.unit_of_work(read_only=True) as uow:
            page = uow.cases.list(page_query, budget=budget)
            ids = [c.id for c in page.cases] + [d.id for d in page.deferred]
            states: dict[str, list[DeadlineState]] = {}
            if deadlines and ids:
                for state in uow.deadlines.for_cases(ids):
                    states.setdefault(state.case_id, []).append(state)
        if not ids:
            return
        present = _presenter(deadlines, states, decorators, user)
        for case in page.cases:
            yield present(case)
        yield from read_deferred(store, page.deferred, budget, present)
        if len(ids) < PAGE_SIZE:
            return
        page_query = attrs.evolve(page_query, after_id=ids[-1])


def export_json(
    store: Store,
    selection: ListQuery,
    decorators: Decorators,
    user: Any,
    deadlines: Deadlines = NO_DEADLINES,
    budget: int | None = None,
) -> Iterator[str]:
    """``export``, each case as the JSON text it is sent as. Where nothing is added to a
    listed case (no decorator for listings, no deadline) and the store writes a case's JSON
    itself (``EncodedListings``: PostgreSQL), the pages come written by the store, and the
    worker spends next to nothing on a case but to send it (as the listing does)."""
    if budget is None:
        budget = query_module.LISTING_BUDGET
    if not _store_writes(store, decorators, deadlines):
        yield from (
            encode_json(c) for c in export(store, selection, decorators, user, deadlines, budget)
        )
        return
    yield from _written(
        store, selection, budget, False, _as_it_is, lambda case: encode_json(case_to_wire(case))
    )


def _store_writes(store: Store, decorators: Decorators, deadlines: Deadlines) -> bool:
    """Whether the store writes the cases' JSON itself and nothing is added to it."""
    if deadlines or any(on_lists for _, on_lists in decorators):
        return False
    with store.unit_of_work(read_only=True) as uow:
        return isinstance(uow.cases, EncodedListings)


def _as_it_is(text: str) -> str:
    return text


def _written(
    store: Store,
    selection: ListQuery,
    budget: int,
    as_stored: bool,
    parse: Callable[[str], T],
    present: Callable[[Case], T],
) -> Iterator[T]:
    """The pages of an export as the store writes them (``EncodedListings``), each case's
    text through ``parse``; a case read past the page's budget through ``present``.
    ``as_stored``: numbers as the store keeps them (for parsing: the values its own read
    parses), else as every answer writes them.

    The next page is read while this one is gone through: the store's time on a page (by
    id, its cases lie all over the table) then overlaps the worker's, at the cost of a
    second page in memory and, meanwhile, a second connection."""

    def read(page_query: ListQuery) -> EncodedPage:
        with store.unit_of_work(read_only=True) as uow:
            cases = uow.cases
            assert isinstance(cases, EncodedListings)  # checked before, the same store
            return cases.list_encoded(page_query, budget=budget, as_stored=as_stored)

    page_query = pages(selection)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="taskflow-export") as reader:
        page = read(page_query)
        while True:
            count = len(page.cases) + len(page.deferred)
            if not count:
                return
            upcoming: Future[EncodedPage] | None = None
            if count >= PAGE_SIZE:
                # The last case's id; from its text when it came written: once a page, so
                # parsing it costs next to nothing.
                last = page.deferred[-1].id if page.deferred else json.loads(page.cases[-1])["id"]
                page_query = attrs.evolve(page_query, after_id=last)
                upcoming = reader.submit(read, page_query)
            texts = page.cases
            texts.reverse()
            while texts:  # let go of each case once parsed
                yield parse(texts.pop())
            yield from read_deferred(store, page.deferred, budget, present)
            if upcoming is None:
                return
            page = upcoming.result()


def _presenter(
    deadlines: Deadlines,
    states: dict[str, list[DeadlineState]],
    decorators: Decorators,
    user: Any,
) -> Callable[[Case], dict[str, Any]]:
    def present(case: Case) -> dict[str, Any]:
        wire = deadlines_of(case_to_wire(case), deadlines, states.get(case.id, ()))
        return decorated(wire, user, decorators, listing=True)

    return present


def ndjson_lines(cases: Iterable[dict[str, Any] | str]) -> Iterator[str]:
    """Each case as one line of JSON (numbers as JavaScript writes them, as every answer);
    a case given as its JSON text already (``export_json``) as it is."""
    for case in cases:
        yield (case if isinstance(case, str) else encode_json(case)) + "\n"


def _cell(value: Any) -> str:
    """A value's cell: strings as they are (defused when a spreadsheet would run them),
    numbers, booleans and nested values as JSON (which never starts like a formula but
    for a negative number, which a spreadsheet reads as the number it is), null empty."""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if value is None:
        return ""
    # By exact type: a cell per data key per case is the CSV's hot path.
    kind = type(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        # What encode_json writes of an integer, without its walk.
        return str(value)
    return encode_json(value)


def csv_lines(cases: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A header row, then a row per case: ``CASE_COLUMNS``, then ``data.<key>`` for each
    top-level data key present in the first ``CSV_HEADER_ROWS`` cases (in the order first
    seen; a later case's other keys are left out). Quoted as RFC 4180 says, lines ending in
    CRLF; a cell a spreadsheet would run as a formula starts with an apostrophe. Rows come
    ``CSV_ROWS_AT_ONCE`` at a time, as one text (the header alone first)."""
    iterator = iter(cases)
    head: list[dict[str, Any]] = []
    for case in iterator:
        head.append(case)
        if len(head) >= CSV_HEADER_ROWS:
            break
    keys: dict[str, None] = {}
    for case in head:
        data = case.get("data")
        if isinstance(data, dict):
            keys.update(dict.fromkeys(data))
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def written() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([*CASE_COLUMNS, *(f"data.{key}" for key in keys)])
    yield written()
    columns, data_keys, cell, starts = CASE_COLUMNS, tuple(keys), _cell, FORMULA_STARTS
    empty: dict[str, Any] = {}

    def row(case: dict[str, Any]) -> list[str]:
        data = case.get("data")
        get = (data if isinstance(data, dict) else empty).get
        # A plain string is its own cell (what _cell answers), without a call for it.
        return [
            v if type(v) is str and not v.startswith(starts) else cell(v)
            for v in (*map(case.get, columns), *map(get, data_keys))
        ]

    rows: list[list[str]] = []
    head.reverse()
    while head:  # let go of each buffered case once written
        rows.append(row(head.pop()))
    for case in iterator:
        if len(rows) >= CSV_ROWS_AT_ONCE:
            writer.writerows(rows)
            rows.clear()
            yield written()
        rows.append(row(case))
    if rows:
        writer.writerows(rows)
        yield written()


LINES: dict[str, Callable[[Iterable[dict[str, Any]]], Iterator[str]]] = {
    "ndjson": ndjson_lines,
    "csv": csv_lines,
}
MEDIA_TYPES = {"ndjson": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}


def write(cases: Iterable[dict[str, Any]], fmt: str, out: TextIO) -> int:
    """Write ``cases`` to the text file ``out`` as ``fmt`` (ndjson or csv); how many."""
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for case in cases:
            count += 1
            yield case

    for text in LINES[check_format(fmt)](counted()):
        out.write(text)
    return count
