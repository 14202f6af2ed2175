"""``taskflow serve --prune-older-than``: its workers prune on a schedule (what ``taskflow
prune`` does), one worker at a time, the one holding an exclusive lock on a file the server
made; when that worker exits, the lock goes with it, and another takes it at its next turn."""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import IO, Any, TypeVar

import attrs
import click

from taskflow_compose.environment import PRUNE_EVERY_ENV, PRUNE_OLDER_THAN_ENV
from taskflow_core.background.pruner import DEFAULT_EVERY, Prunable, Pruner

from .prune import parse_age

logger = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def _age_or_none(ctx: click.Context, param: click.Parameter, value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_age(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def prune_options(fn: F) -> F:
    """``--prune-older-than`` and ``--prune-every``, each with its environment variable."""
    every = click.option(
        "--prune-every",
        metavar="AGE",
        envvar=PRUNE_EVERY_ENV,
        callback=_age_or_none,
        help="How often --prune-older-than prunes. [default: 1h]",
    )
    older_than = click.option(
        "--prune-older-than",
        metavar="AGE",
        envvar=PRUNE_OLDER_THAN_ENV,
        callback=_age_or_none,
        help="Prune as `taskflow prune --older-than AGE` does (e.g. 30d), every --prune-every, "
        "from one worker at a time. [default: no pruning]",
    )
    return older_than(every(fn))


@attrs.frozen
class PruneSchedule:
    """What the workers prune, how often, and the file whose lock makes one of them do it."""

    older_than: timedelta
    every: timedelta
    lock_path: str

    def start(self, flow: Prunable) -> None:
        """Prune ``flow`` in a thread of this worker, whenever it holds the lock."""
        Pruner(flow, self.older_than, self.every, ours=WorkerLock(self.lock_path)).start()


@contextmanager
def schedule(
    older_than: timedelta | None, every: timedelta | None
) -> Iterator[PruneSchedule | None]:
    """The schedule the options ask for, and its lock file while the server runs; None
    without ``--prune-older-than`` (a ``--prune-every`` alone is a usage error)."""
    if older_than is None:
        if every is not None:
            raise click.UsageError("--prune-every needs --prune-older-than")
        yield None
        return
    handle, path = tempfile.mkstemp(prefix="taskflow-prune-", suffix=".lock")
    os.close(handle)
    try:
        yield PruneSchedule(older_than, every or DEFAULT_EVERY, path)
    finally:
        os.unlink(path)


class WorkerLock:
    """Whether this process holds the lock on ``path``: tried without waiting until it is
    taken, then held (and the answer True) until the process exits."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._held: IO[bytes] | None = None

    def __call__(self) -> bool:
        if self._held is not None:
            return True
        opened = open(self.path, "rb")  # noqa: SIM115 -- kept open while the lock is held
        try:
            fcntl.flock(opened, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            opened.close()
            return False
        self._held = opened
        logger.info("this worker (pid %d) prunes on the schedule from now on", os.getpid())
        return True
