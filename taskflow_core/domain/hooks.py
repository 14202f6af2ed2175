"""The hook bus: event patterns, validated at registration, matched part by part.

Generic in the hook's type, so this module needs nothing of what hooks are called with.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

PART_RE = re.compile(r"[A-Za-z][A-Za-z-]*")
"""A pattern part, and an event name's part: a word of letters and hyphens."""


def parse_pattern(pattern: object) -> tuple[str, ...]:
    """Split a pattern into parts; ValueError for anything that could never match sensibly."""
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"hook pattern must be a non-empty string, not {pattern!r}")
    parts = tuple(pattern.split(":"))
    if parts[0] == "*":
        raise ValueError(f"hook pattern {pattern!r} must start with an event name, not '*'")
    for part in parts:
        if part != "*" and not PART_RE.fullmatch(part):
            raise ValueError(
                f"hook pattern {pattern!r} has a malformed part {part!r}: each part is a word "
                "of letters and hyphens starting with a letter, or '*'"
            )
    return parts


def matches(pattern: tuple[str, ...], event: tuple[str, ...]) -> bool:
    return len(pattern) == len(event) and all(
        want in ("*", got) for want, got in zip(pattern, event, strict=True)
    )


class HookSet(Generic[F]):
    """An immutable snapshot of the registered hooks: one request uses one snapshot."""

    def __init__(self, hooks: tuple[tuple[tuple[str, ...], F], ...]) -> None:
        self._hooks = hooks
        self._cache: dict[str, tuple[F, ...]] = {}

    def matching(self, event_name: str) -> tuple[F, ...]:
        """The hooks for an event, in registration order."""
        found = self._cache.get(event_name)
        if found is None:
            parts = tuple(event_name.split(":"))
            found = tuple(fn for pattern, fn in self._hooks if matches(pattern, parts))
            self._cache[event_name] = found
        return found

    def any_of_kinds(self, kinds: tuple[str, ...]) -> bool:
        """Whether a hook is registered for any event of these kinds (an event name's first
        part: ``status`` for ``status:new:open``); a pattern's first part is never ``*``."""
        return any(pattern[0] in kinds for pattern, _ in self._hooks)

    def patterns(self, event_name: str) -> tuple[str, ...]:
        """The patterns of ``matching(event_name)``'s hooks, in the same order: what a
        failure is counted under (the host wrote them, so they are few)."""
        parts = tuple(event_name.split(":"))
        return tuple(":".join(pattern) for pattern, _ in self._hooks if matches(pattern, parts))


class HookBus(Generic[F]):
    """Registered hooks. Registration may happen at any time, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hooks: tuple[tuple[tuple[str, ...], F], ...] = ()
        self._snapshot: HookSet[F] | None = None

    def register(self, pattern: str, fn: F) -> None:
        parts = parse_pattern(pattern)
        if not callable(fn):
            raise TypeError(f"hook for {pattern!r} must be callable")
        with self._lock:
            # Copy on write: requests already running keep the snapshot they started with.
            self._hooks = (*self._hooks, (parts, fn))
            self._snapshot = None

    def snapshot(self) -> HookSet[F]:
        with self._lock:
            if self._snapshot is None:
                self._snapshot = HookSet(self._hooks)
            return self._snapshot
