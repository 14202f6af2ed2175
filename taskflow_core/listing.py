"""A listing read within a memory budget: the cases that fit are read with the page, the rest
by id, a batch within the budget at a time, as the caller goes through them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from .model import Case
from .ports import Store
from .query import Deferred, ListPage, within

logger = logging.getLogger(__name__)

Present = Callable[[Case], dict[str, Any]]


@attrs.frozen
class Listing:
    """A page as the HTTP listing answers it, cases in wire form and decorated.

    ``first`` are the cases read with the page and its count. ``rest``, when the page held
    more data than the budget, reads the others as it is iterated, each batch in a read of
    its own, so no connection is held between batches (while a client reads, say). A case
    comes as it is when its batch is read: changed since the page was read, it shows its
    change; gone (cases are never deleted, except by hand), it is left out and logged.
    """

    count: int
    first: list[dict[str, Any]]
    rest: Iterator[dict[str, Any]]
    # Whether ``rest`` has any case to read: False when the whole page came in ``first``.
    deferred: bool


def listing(store: Store, page: ListPage, budget: int, present: Present) -> Listing:
    """The listing of ``page``, read within ``budget``; ``present`` makes a case's answer."""
    first = [present(case) for case in page.cases]
    rest = _rest(store, page.deferred, budget, present)
    return Listing(page.count, first, rest, deferred=bool(page.deferred))


def _rest(
    store: Store, deferred: list[Deferred], budget: int, present: Present
) -> Iterator[dict[str, Any]]:
    for ids in _batches(deferred, budget):
        with store.unit_of_work(read_only=True) as uow:
            cases = uow.cases.get_many(ids)
        if len(cases) < len(ids):
            missing = sorted(set(ids) - {case.id for case in cases})
            logger.warning("listed cases vanished before they were sent: %s", missing)
        # Let go of each case once presented, and of the batch before the next is read.
        cases.reverse()
        while cases:
            yield present(cases.pop())


def _batches(deferred: list[Deferred], budget: int) -> Iterator[list[str]]:
    """The ids of ``deferred`` in order, in runs whose sizes add up to the budget at most
    (a case bigger than the budget alone)."""
    sizes = [d.size for d in deferred]
    start = 0
    while start < len(deferred):
        end = start + within(budget, sizes[start:])
        yield [d.id for d in deferred[start:end]]
        start = end
