"""The suite's timed tests run alone: while one runs, no other test does, in any process.

Their bounds (a p99 within a second) are the issues' promises, measured on real processes;
on two cores, a browser test or six tests of other processes running beside one starve its
relay for seconds. Every test holds a shared lock on a file all processes of the run share,
a timed one (marked ``timed``) holds it exclusively. A second lock, taken briefly by every
test before its shared one and held by a timed test while it waits, lets that test in
(the others queue behind it) instead of waiting for a moment when none runs.

What a test leaves running after it ends takes a shared turn too: dropping a test database
(tests/support/databases.py) makes the server write a checkpoint, whose disk writes stall
every commit on the machine, SQLite's included, for a second or more.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The run's folder, once the suite has named it (tests/conftest.py).
_folder: Path | None = None


def use(folder: Path) -> None:
    global _folder
    _folder = folder


def shared() -> contextlib.AbstractContextManager[None]:
    """A shared turn, for work beside the tests (none outside a run of the suite)."""
    return taking_turns(_folder, alone=False) if _folder else contextlib.nullcontext()


@contextmanager
def taking_turns(folder: Path, *, alone: bool) -> Iterator[None]:
    """Hold the run's lock in ``folder``: exclusively when ``alone``, else shared."""
    with (folder / "turnstile.lock").open("a") as turnstile, (folder / "run.lock").open("a") as run:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(run, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            if not alone:
                fcntl.flock(turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(run, fcntl.LOCK_UN)
            if alone:
                fcntl.flock(turnstile, fcntl.LOCK_UN)
