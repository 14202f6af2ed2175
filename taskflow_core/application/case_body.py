"""``GET /{id}``'s answer as the bytes it is sent as: whole for a case whose log fits in one
page, else streamed, the log read a page at a time from one consistent read, so that a
worker holds a page of a long log at once, never the whole (issue 34, docs/deploying.md).

The bytes are those of ``single_case_body`` of the case built whole (``reads.read``), byte
for byte: the case is encoded with a mark where its log goes, and each page of the log is
encoded as the whole list's items would be (``encode_json`` writes ``[a, b]`` as ``[``, the
items joined by ``, ``, ``]``), with the edits of the whole log, read first, applied to the
comments of every page.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

from ..domain.deadlines import Deadlines
from ..domain.model import ActivityEntry
from ..domain.wire import CommentEdits, case_to_wire, encode_json, folded
from ..domain.workflow import Workflow
from ..errors import NotFound
from ..ports import Store
from .access import Access, check_case
from .answers import Decorators, single_case, single_case_body, with_deadlines
from .case_log import CaseLog

logger = logging.getLogger(__name__)

ITEM_SEPARATOR = b", "
# How much of the log (bytes of its entries' JSON text, as the store measures them) is read at
# once. A parsed entry of many small objects takes several times its text in Python; a page
# of 1 MiB kept a worker sending a 31 MB log within 30 MB (tests/e2e/test_big_case.py).
LOG_BUDGET = 1024 * 1024
# The answer goes out in pieces of about this many bytes: a page's encoded entries are not
# held all at once.
CHUNK = 64 * 1024


class CaseBody:
    """A case's answer as bytes: iterate it for them, then ``close`` it (a WSGI server does
    both), which ends the read a streamed answer holds open. ``whole`` is the body when it
    was made at once; ``version`` the case's (its ETag), whatever decorators did."""

    def __init__(
        self,
        version: int,
        *,
        whole: bytes | None = None,
        chunks: Iterator[bytes] | None = None,
        release: Callable[[], None] | None = None,
    ) -> None:
        self.version = version
        self.whole = whole
        self._chunks = chunks
        self._release = release

    def __iter__(self) -> Iterator[bytes]:
        if self.whole is not None:
            yield self.whole
            return
        if self._chunks is None:
            raise ValueError("this answer has been sent, or closed")
        chunks, self._chunks = self._chunks, None
        try:
            yield from chunks
        except Exception:
            # The status and the first bytes are sent: all that is left is a short answer.
            logger.exception("a case's answer failed after it began to be sent; it is cut short")
            raise
        finally:
            self.close()

    def close(self) -> None:
        """End the read (idempotent); an answer closed before it is sent sends nothing."""
        release, self._release = self._release, None
        self._chunks = None
        if release is not None:
            release()


def read_body(
    store: Store,
    case_id: str,
    workflow: Workflow,
    decorators: Decorators,
    user: Any,
    deadlines: Deadlines,
    access: Access | None,
    budget: int,
) -> CaseBody:
    """The case's answer, its errors (NotFound, a refusal of ``access``) raised before any
    byte. Built whole, as ``reads.read`` builds it, when its log came in one page, or when
    decorators or a guard of the workflow are to see the whole case."""
    held = ExitStack()
    try:
        uow = held.enter_context(store.unit_of_work(read_only=True))
        log = uow.cases.read_with_log(case_id, budget)
        if log is None:
            raise NotFound("Case not found")
        check_case(access, user, log.case)
        wire = with_deadlines(case_to_wire(log.case), deadlines, uow)
        if log.rest is None or decorators or workflow.shows_case(log.case.status):
            whole = _whole(log, wire, workflow, user, decorators)
            held.close()
            return CaseBody(log.case.version, whole=whole)
        edits = CommentEdits()
        edits.add(uow.activity.comment_edits(log.case.id))
    except BaseException:
        held.close()
        raise
    chunks = _streamed(log, wire, workflow, user, edits)
    return CaseBody(log.case.version, chunks=chunks, release=held.close)


def _whole(
    log: CaseLog, wire: dict[str, Any], workflow: Workflow, user: Any, decorators: Decorators
) -> bytes:
    entries = list(log.first)
    if log.rest is not None:
        for page in log.rest:
            entries.extend(page)
    edits = CommentEdits()
    edits.add(entries)
    # The log's place in the case: after the case's own fields, before what is added to it.
    with_log = {**case_to_wire(log.case), "activityLog": folded(entries, edits), **wire}
    return single_case_body(single_case(with_log, workflow, user, decorators))


def _streamed(
    log: CaseLog, wire: dict[str, Any], workflow: Workflow, user: Any, edits: CommentEdits
) -> Iterator[bytes]:
    """The answer's pieces: the case around its log made now, before any byte; the log's
    entries as they are read."""
    # Random: no text of the case holds the mark's, quoted, but the log's place.
    mark = f"activity log {uuid.uuid4()}"
    with_log = {**case_to_wire(log.case), "activityLog": mark, **wire}
    head, _, tail = single_case_body(single_case(with_log, workflow, user, ())).partition(
        encode_json(mark).encode()
    )
    return _chunks(head, _pages(log), edits, tail)


def _chunks(
    head: bytes, pages: Iterator[list[ActivityEntry]], edits: CommentEdits, tail: bytes
) -> Iterator[bytes]:
    separator = b"["
    pending, held = [head], len(head)
    for page in pages:
        for entry in folded(page, edits):
            text = encode_json(entry).encode()
            pending += (separator, text)
            held += len(text)
            separator = ITEM_SEPARATOR
            if held >= CHUNK:
                yield b"".join(pending)
                pending, held = [], 0
    yield b"".join(pending) + (b"[]" if separator == b"[" else b"]") + tail


def _pages(log: CaseLog) -> Iterator[list[ActivityEntry]]:
    yield log.first
    assert log.rest is not None
    yield from log.rest
