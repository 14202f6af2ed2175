"""The declared workflow: which status changes are allowed, to whom, and what may come next.

Declarations are held like hooks: registered at any time from any thread, copied on write,
and each request uses the snapshot (``Workflow``) of the moment it starts. The same snapshot
enforces a change (``check``) and answers "what can this user do next" (``allowed``), so the
two can never disagree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import attrs

from ..errors import Conflict, Forbidden
from .validation import is_status

logger = logging.getLogger(__name__)

Guard = Callable[[dict[str, Any], Any], bool]
"""``guard(case, user)``: the case in wire form (as ``GET /{id}`` shows it), the user."""

CaseView = Callable[[], dict[str, Any]]
"""Builds the case a guard sees; called only when a guard is about to run."""

ANY = "*"
"""A transition's source that matches every status."""


@attrs.frozen
class Transition:
    source: str
    target: str
    guard: Guard | None = None


def transition(source: object, target: object, guard: object = None) -> Transition:
    """A checked declaration; ValueError for what could never match or never be called."""
    if not isinstance(source, str) or (source != ANY and not is_status(source)):
        raise ValueError(
            f"transition source {source!r} must be a status (lowercase letters and hyphens) or '*'"
        )
    if target == ANY:
        raise ValueError("'*' is only a source: a transition goes to one named status")
    if not isinstance(target, str) or not is_status(target):
        raise ValueError(
            f"transition target {target!r} must be a status (lowercase letters and hyphens)"
        )
    if guard is not None and not callable(guard):
        raise ValueError(f"the guard of {source!r} -> {target!r} must be callable or None")
    return Transition(source, target, guard)


@attrs.frozen
class _Outgoing:
    """What leaves one status: targets open to everyone, and guarded declarations of others."""

    always: tuple[str, ...]  # sorted
    guarded: tuple[Transition, ...]


class Workflow:
    """An immutable snapshot of the declared transitions; empty means "anything goes"."""

    def __init__(self, transitions: tuple[Transition, ...] = ()) -> None:
        self.transitions = transitions
        self._targets = frozenset(t.target for t in transitions)
        # Per-status answers, computed once per snapshot: the snapshot never changes, and a
        # status change then costs a dictionary lookup, not a scan of the declarations. Keyed
        # only by statuses cases hold or declarations name, so a client sending made-up
        # statuses cannot grow them.
        self._matching: dict[tuple[str, str], tuple[Transition, ...]] = {}
        self._outgoing: dict[str, _Outgoing] = {}

    @property
    def declared(self) -> bool:
        return bool(self.transitions)

    def matching(self, source: str, target: str) -> tuple[Transition, ...]:
        """The declarations that cover ``source -> target``, in declaration order."""
        if target not in self._targets:
            return ()
        key = (source, target)
        found = self._matching.get(key)
        if found is None:
            found = tuple(
                t for t in self.transitions if t.target == target and t.source in (source, ANY)
            )
            self._matching[key] = found
        return found

    def check(self, source: str, target: str, user: Any, case: CaseView) -> None:
        """Refuse ``source -> target`` for ``user``: ``Conflict`` when nothing declared covers
        it (its errors name what this user may do instead), ``Forbidden`` when every covering
        declaration is guarded and each guard says no. A guard that raises is not caught: it
        is a bug, and the request fails with it."""
        if not self.transitions:
            return
        matches = self.matching(source, target)
        if not matches:
            raise Conflict(
                f"The status cannot change from {source!r} to {target!r}",
                {"status": self._allowed(source, case, user)},
            )
        if any(t.guard is None for t in matches):
            return
        seen = case()
        for declared in matches:
            assert declared.guard is not None  # every match is guarded here
            if declared.guard(seen, user):
                return
        raise Forbidden(f"You may not change the status from {source!r} to {target!r}")

    def allowed(self, case: dict[str, Any], user: Any) -> list[str]:
        """The statuses ``user`` may move ``case`` (wire form) to next, sorted. A guard that
        raises counts as a refusal, logged: a broken guard must not break every read."""
        return self._allowed(case["status"], lambda: case, user)

    def shows_case(self, status: str) -> bool:
        """Whether ``allowed`` shows a case in ``status`` to a guard (which may read all of
        it, its activity log too)."""
        return self.declared and bool(self._leaving(status).guarded)

    def _allowed(self, status: str, case: CaseView, user: Any) -> list[str]:
        outgoing = self._leaving(status)
        if not outgoing.guarded:
            return list(outgoing.always)
        seen = case()
        found = set(outgoing.always)
        for declared in outgoing.guarded:
            if declared.target not in found and _passes(declared, seen, user):
                found.add(declared.target)
        return sorted(found)

    def _leaving(self, status: str) -> _Outgoing:
        found = self._outgoing.get(status)
        if found is None:
            leaving = [t for t in self.transitions if t.source in (status, ANY)]
            always = {t.target for t in leaving if t.guard is None}
            guarded = tuple(t for t in leaving if t.guard is not None and t.target not in always)
            found = _Outgoing(tuple(sorted(always)), guarded)
            self._outgoing[status] = found
        return found

    def as_dict(self) -> dict[str, Any]:
        """``{"statuses": [...], "transitions": [{"from", "to", "guarded"}]}``: one entry per
        pair in the order first declared; a pair is guarded only when every declaration of it
        is (an unguarded one opens it to everyone)."""
        pairs: dict[tuple[str, str], bool] = {}
        for t in self.transitions:
            key = (t.source, t.target)
            pairs[key] = pairs.get(key, True) and t.guard is not None
        statuses = {s for pair in pairs for s in pair if s != ANY}
        return {
            "statuses": sorted(statuses),
            "transitions": [
                {"from": source, "to": target, "guarded": guarded}
                for (source, target), guarded in pairs.items()
            ],
        }


def _passes(declared: Transition, case: dict[str, Any], user: Any) -> bool:
    assert declared.guard is not None
    try:
        return bool(declared.guard(case, user))
    except Exception:
        logger.warning(
            "the guard of %r -> %r raised; counted as a refusal",
            declared.source,
            declared.target,
            exc_info=True,
        )
        return False


NO_WORKFLOW = Workflow()


class Transitions:
    """The declared transitions. Declaring may happen at any time, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot = NO_WORKFLOW

    def declare(self, source: object, target: object, guard: object = None) -> None:
        declared = transition(source, target, guard)
        with self._lock:
            # Copy on write: requests already running keep the snapshot they started with.
            self._snapshot = Workflow((*self._snapshot.transitions, declared))

    def snapshot(self) -> Workflow:
        # One reference read: a snapshot is immutable, so no lock is needed to hand it out.
        return self._snapshot
