"""``taskflow prune``: what it deletes, what it says, and its bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from taskflow_cli.main import cli
from taskflow_cli.prune import age_text, parse_age
from taskflow_cli.scheduled_prune import WorkerLock
from taskflow_core import Taskflow
from taskflow_sqlite import SqliteStore


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A SQLite file with three changes of 100 days ago and one of now."""
    path = tmp_path / "taskflow.db"
    store = SqliteStore(path)
    store.migrate()
    then = datetime.now(UTC) - timedelta(days=100)
    old = Taskflow(store, clock=lambda: then)
    for n in range(3):
        old.create({"n": n}, idempotency_key=f"key-{n}")
    Taskflow(store).create({"n": "new"})
    store.close()
    return f"sqlite:///{path}"


def test_it_deletes_what_is_older_and_says_how_much(database: str) -> None:
    result = CliRunner().invoke(cli, ["prune", "--older-than", "30d", "--dsn", database])

    assert result.exit_code == 0, result.output
    assert result.output == "deleted 3 change(s), 0 delivery(ies), 3 idempotency key(s)\n"
    again = CliRunner().invoke(cli, ["prune", "--older-than", "30d", "--dsn", database])
    assert again.output == "deleted 0 change(s), 0 delivery(ies), 0 idempotency key(s)\n"


def test_a_dry_run_deletes_nothing(database: str) -> None:
    args = ["prune", "--older-than", "30d", "--dry-run", "--dsn", database]

    first = CliRunner().invoke(cli, args)
    second = CliRunner().invoke(cli, args)

    assert first.output == "would delete 3 change(s), 0 delivery(ies), 3 idempotency key(s)\n"
    assert second.output == first.output


@pytest.mark.parametrize("age", ["30", "thirty days", "1w", "-1d", ""])
def test_an_age_it_cannot_read_is_a_usage_error(database: str, age: str) -> None:
    result = CliRunner().invoke(cli, ["prune", "--older-than", age, "--dsn", database])

    assert result.exit_code == 2
    assert "is not an age such as 30d, 12h, 90m or 45s" in result.output


def test_ages_in_each_unit() -> None:
    assert [parse_age(a) for a in ("30d", "12h", "90m", "45s")] == [
        timedelta(days=30),
        timedelta(hours=12),
        timedelta(minutes=90),
        timedelta(seconds=45),
    ]


def test_an_age_is_said_as_it_is_read() -> None:
    ages = ["30d", "12h", "90m", "45s", "0s", "25h"]
    assert [age_text(parse_age(a)) for a in ages] == ages


def test_one_process_at_a_time_holds_the_schedules_lock(tmp_path: Path) -> None:
    path = tmp_path / "prune.lock"
    path.write_bytes(b"")
    # Each its own open file, as each worker's: flock tells them apart even in one process.
    first, second = WorkerLock(str(path)), WorkerLock(str(path))

    assert first() is True
    assert second() is False
    assert first() is True  # kept
    assert first._held is not None
    first._held.close()  # as when its worker exits
    assert second() is True
