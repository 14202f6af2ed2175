"""The read side: a case, a listing, what may come next, timers, deliveries and the feed.

Reads skip the pipeline: each is a read-only unit of work, one statement on the SQL stores,
and its answer is built by ``answers.py`` as a mutation's is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.clock import timestamp
from ..domain.deadlines import NO_DEADLINES, Deadlines
from ..domain.model import DeadlineState
from ..domain.validation import canonical_id
from ..domain.wire import case_to_wire, delivery_to_wire, encode_json
from ..domain.workflow import Workflow
from ..errors import NotFound
from ..ports import EncodedListings, Store, UnitOfWork
from . import feed
from . import query as query_module
from .access import Access, check_case
from .answers import (
    Decorators,
    deadlines_of,
    decorated,
    listing_answer,
    single_case,
    with_deadlines,
)
from .commands import Outcome
from .listing import Listing, listing
from .pipeline import read_case
from .query import EncodedPage, ListPage, ListQuery, parse_list_query


def read(
    store: Store,
    case_id: str,
    workflow: Workflow,
    decorators: Decorators,
    user: Any,
    deadlines: Deadlines = NO_DEADLINES,
    access: Access | None = None,
) -> Outcome:
    found = canonical_id(case_id)
    with store.unit_of_work(read_only=True) as uow:
        read_one = read_case(uow, found)
        if access is not None:
            access.check_wire(user, read_one)
        case = with_deadlines(read_one, deadlines, uow)
    # The version beside the case: decorators may drop it, an ETag may not.
    return Outcome(single_case(case, workflow, user, decorators), case["version"])


def next_statuses(
    store: Store, case_id: str, workflow: Workflow, user: Any, access: Access | None = None
) -> list[str]:
    found = canonical_id(case_id)
    with store.unit_of_work(read_only=True) as uow:
        case = read_case(uow, found)
        if access is not None:
            access.check_wire(user, case)
    return workflow.allowed(case, user)


def _states_by_case(
    uow: UnitOfWork, deadlines: Deadlines, case_ids: list[str]
) -> dict[str, list[DeadlineState]]:
    """The deadline states of a page's cases, in one read; none when none is declared."""
    found: dict[str, list[DeadlineState]] = {}
    if deadlines and case_ids:
        for state in uow.deadlines.for_cases(case_ids):
            found.setdefault(state.case_id, []).append(state)
    return found


def list_cases(
    store: Store,
    query: Mapping[str, Any] | ListQuery | None,
    decorators: Decorators,
    user: Any,
    deadlines: Deadlines = NO_DEADLINES,
) -> dict[str, Any]:
    # A service resolves named views first (finding.py), and passes the query parsed.
    parsed = query if isinstance(query, ListQuery) else parse_list_query(query)
    with store.unit_of_work(read_only=True) as uow:
        page = uow.cases.list(parsed)
        states = _states_by_case(uow, deadlines, [c.id for c in page.cases])

    def present(case: Any) -> dict[str, Any]:
        wire = deadlines_of(case_to_wire(case), deadlines, states.get(case.id, ()))
        return decorated(wire, user, decorators, listing=True)

    return listing_answer((present(c) for c in page.cases), page.count)


def list_streamed(
    store: Store,
    query: Mapping[str, Any] | ListQuery | None,
    decorators: Decorators,
    user: Any,
    budget: int | None,
    deadlines: Deadlines = NO_DEADLINES,
) -> Listing:
    if budget is None:
        budget = query_module.LISTING_BUDGET  # looked up now, so a test can lower it
    # A service resolves named views first (finding.py), and passes the query parsed.
    parsed = query if isinstance(query, ListQuery) else parse_list_query(query)
    on_lists = any(applies for _, applies in decorators)
    with store.unit_of_work(read_only=True) as uow:
        cases = uow.cases
        page: ListPage | EncodedPage
        if not on_lists and not deadlines and isinstance(cases, EncodedListings):
            # The store writes each case's JSON itself: nothing to decorate or add.
            page = cases.list_encoded(parsed, budget=budget)
        else:
            page = cases.list(parsed, budget=budget)
        states: dict[str, list[DeadlineState]] = {}
        if deadlines and isinstance(page, ListPage):
            # States are small: those of the cases read past the budget come now too.
            ids = [c.id for c in page.cases] + [d.id for d in page.deferred]
            states = _states_by_case(uow, deadlines, ids)

    def present(case: Any) -> str:
        wire = deadlines_of(case_to_wire(case), deadlines, states.get(case.id, ()))
        return encode_json(decorated(wire, user, decorators, listing=True))

    return listing(store, page, budget, present)


def _existing(uow: UnitOfWork, case_id: str, access: Access | None, user: Any) -> str:
    """``case_id``, when the case exists and ``user`` may read it; else NotFound."""
    case = uow.cases.get(case_id)
    if case is None:
        raise NotFound("Case not found")
    check_case(access, user, case)
    return case_id


def timers(
    store: Store, case_id: str, access: Access | None = None, user: Any = None
) -> list[dict[str, Any]]:
    found = canonical_id(case_id)
    with store.unit_of_work(read_only=True) as uow:
        pending = uow.timers.for_case(_existing(uow, found, access, user))
    return [{"name": t.name, "due": timestamp(t.due)} for t in pending]


def deliveries(
    store: Store, case_id: str, access: Access | None = None, user: Any = None
) -> list[dict[str, Any]]:
    found = canonical_id(case_id)
    with store.unit_of_work(read_only=True) as uow:
        entries = uow.deliveries.for_case(_existing(uow, found, access, user))
    return [delivery_to_wire(d) for d in entries]


def changes(
    store: Store,
    after: str | None,
    limit: int,
    wait: float,
    access: Access | None = None,
    user: Any = None,
) -> dict[str, Any]:
    if access is not None:
        access.check_feed(user)
    position = feed.decode_cursor(after)
    found = feed.read(store, position, feed.check_limit(limit), feed.check_wait(wait))
    return feed.page(found, after)
