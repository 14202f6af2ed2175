"""A listing read within a memory budget: the cases that fit are read with the page, the rest
by id, a batch within the budget at a time, as the caller goes through them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TypeVar

import attrs

from ..domain.model import Case
from ..ports import Store
from .query import Deferred, EncodedPage, ListPage, within

logger = logging.getLogger(__name__)

# A case's answer in a listing, as JSON text (decorated, encoded).
Present = Callable[[Case], str]
T = TypeVar("T")


@attrs.frozen
class Listing:
    """A page as the HTTP listing answers it: each case as the JSON text it is sent as, in
    wire form and decorated (``encode_json`` of it: taskflow_core/domain/wire.py).

    ``first`` are the cases read with the page and its count. ``rest``, when the page held
    more data than the budget, reads the others as it is iterated, each batch in a read of
    its own, so no connection is held between batches (while a client reads, say). A case
    comes as it is when its batch is read: changed since the page was read, it shows its
    change; gone (cases are never deleted, except by hand), it is left out and logged.
    """

    count: int
    first: list[str]
    rest: Iterator[str]
    # Whether ``rest`` has any case to read: False when the whole page came in ``first``.
    deferred: bool


def listing(store: Store, page: ListPage | EncodedPage, budget: int, present: Present) -> Listing:
    """The listing of ``page``, read within ``budget``; ``present`` makes a case's answer
    (for the cases read past the budget too, when the store encoded the page's first)."""
    first = page.cases if isinstance(page, EncodedPage) else [present(c) for c in page.cases]
    rest = read_deferred(store, page.deferred, budget, present)
    return Listing(page.count, first, rest, deferred=bool(page.deferred))


def read_deferred(
    store: Store, deferred: list[Deferred], budget: int, present: Callable[[Case], T]
) -> Iterator[T]:
    """The cases of a page read past its budget, each as ``present`` makes it, read by id a
    batch within the budget at a time, each batch in a read of its own."""
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
