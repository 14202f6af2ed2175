"""A case with its activity log read a page at a time: what a store's ``read_with_log`` gives
(ports.py), and the paging by size of the stores that read a log row by row."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import attrs

from ..domain.model import ActivityEntry, Case

R = TypeVar("R")


@attrs.frozen
class CaseLog:
    """A case and the first page of its raw log, newest first; ``rest`` the log's other
    pages, in order, read as it is iterated, in the unit of work that read the case (and
    seeing what it saw). None when ``first`` is the whole log."""

    case: Case
    first: list[ActivityEntry]
    rest: Iterator[list[ActivityEntry]] | None = None


def case_log(
    case: Case,
    rows: Iterable[R],
    size: Callable[[R], int],
    entry: Callable[[R], ActivityEntry],
    budget: int,
) -> CaseLog:
    """The ``CaseLog`` of ``case`` whose log, newest first, comes as ``rows``: in pages whose
    rows' sizes add up to ``budget`` at most (a row bigger than the budget alone), each row
    made an entry only when its page is taken. The first page is read now, and one row past
    it, to tell whether the log goes on."""
    rows = iter(rows)
    first, following = _page(rows, [], size, budget)
    rest = None if following is _END else _rest(rows, following, size, entry, budget)
    return CaseLog(case, [entry(row) for row in first], rest)


_END: Any = object()


def _page(
    rows: Iterator[R], page: list[R], size: Callable[[R], int], budget: int
) -> tuple[list[R], R]:
    """``page`` filled from ``rows`` within ``budget``; and the row that did not fit (_END
    when there is none)."""
    spent = sum(map(size, page))
    for row in rows:
        cost = size(row)
        if page and spent + cost > budget:
            return page, row
        page.append(row)
        spent += cost
    return page, _END


def _rest(
    rows: Iterator[R],
    following: R,
    size: Callable[[R], int],
    entry: Callable[[R], ActivityEntry],
    budget: int,
) -> Iterator[list[ActivityEntry]]:
    while following is not _END:
        page, following = _page(rows, [following], size, budget)
        entries = [entry(row) for row in page]
        del page
        yield entries
