"""Answers: the one place where what a read or a mutation found becomes what the caller
gets, from Python and over HTTP alike: ``{"data": ...}`` with its ``meta``, a case's
``nextStatuses``, the host's decorators, and the JSON text an answer is sent as."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..domain.deadlines import Deadlines, deadline_to_wire
from ..domain.json_values import check_encodable
from ..domain.model import DeadlineState
from ..domain.wire import encode_json
from ..domain.workflow import Workflow
from ..ports import UnitOfWork

Decorator = Callable[[dict[str, Any], Any], dict[str, Any]]
# Each decorator with whether it also applies to listings (``decorate(fn, list=...)``).
Decorators = tuple[tuple[Decorator, bool], ...]

# Byte for byte what encode_json makes of ``{"data": [...], "meta": {"count": n}}``: a
# streamed listing is sent in these pieces, its cases between them (separators ", ", ": ").
LISTING_OPEN = b'{"data": ['
LISTING_SEPARATOR = b", "


def listing_close(count: int) -> bytes:
    return b'], "meta": {"count": ' + str(count).encode() + b"}}"


def data(value: Any, **meta: Any) -> dict[str, Any]:
    """``{"data": value}``, with ``"meta"`` when given."""
    return {"data": value, "meta": meta} if meta else {"data": value}


def single_case_body(case: dict[str, Any]) -> bytes:
    """The body of an answer with one case, ``{"data": case}``, as it is sent (and stored
    under an idempotency key, to be sent again byte for byte)."""
    return encode_json(data(case)).encode()


def with_next(case: dict[str, Any], workflow: Workflow, user: Any) -> dict[str, Any]:
    """A single-case answer with ``nextStatuses`` for ``user`` when a workflow is declared;
    added before decorators, so they see it, and computed from the case without it."""
    if workflow.declared:
        case["nextStatuses"] = workflow.allowed(case, user)
    return case


def deadlines_of(
    case: dict[str, Any], declared: Deadlines, states: Iterable[DeadlineState]
) -> dict[str, Any]:
    """The case with ``deadlines``: every declared one, in declaration order, as its stored
    state shows it (``state`` null before it first starts). Only when a flow declares any:
    with none, the answer stays as it was."""
    if declared:
        found = {s.name: s for s in states}
        case["deadlines"] = [deadline_to_wire(d.name, found.get(d.name)) for d in declared.declared]
    return case


def with_deadlines(case: dict[str, Any], declared: Deadlines, uow: UnitOfWork) -> dict[str, Any]:
    """A single case with its deadlines, read in ``uow`` (no read when none is declared)."""
    if not declared:
        return case
    return deadlines_of(case, declared, uow.deadlines.for_case(case["id"]))


def decorated(
    case: dict[str, Any], user: Any, decorators: Decorators, *, listing: bool
) -> dict[str, Any]:
    """The case as the host's decorators leave it, in the order they were registered."""
    for fn, on_lists in decorators:
        if listing and not on_lists:
            continue
        case = fn(case, user)
    return case


def single_case(
    case: dict[str, Any], workflow: Workflow, user: Any, decorators: Decorators
) -> dict[str, Any]:
    """A case as ``GET /{id}`` and every mutation answer it."""
    return decorated(with_next(case, workflow, user), user, decorators, listing=False)


def checked(case: dict[str, Any], decorators: Decorators) -> dict[str, Any]:
    """What the store returns is JSON; a decorator's additions may not be, and an answer that
    cannot be sent must fail the request before it commits."""
    if decorators:
        check_encodable(case)
    return case


def listing_answer(cases: Iterable[dict[str, Any]], count: int) -> dict[str, Any]:
    return data(list(cases), count=count)
