"""``taskflow serve --prune-older-than``: a real server's workers prune the old feed, ended
deliveries and expired idempotency keys on a short schedule, one worker at a time, on SQLite
and PostgreSQL (docs/integrations.md, "Pruning")."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from taskflow_compose import store_from_url
from taskflow_core import Taskflow
from tests.e2e.serving import clean_env, free_port, serving, taskflow_command
from tests.e2e.test_big_listings import store_dsn
from tests.receiver import eventually, receiving

pytestmark = pytest.mark.e2e

MONTH = timedelta(days=30)


@pytest.fixture(params=["postgres", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_dsn(request, tmp_path)


def _seed(dsn: str) -> dict[str, int]:
    """Three cases made 100 days ago under idempotency keys, each event delivered to a
    webhook then, and one case made now; what a prune older than a month would delete."""
    store = store_from_url(dsn)
    store.migrate()
    then = datetime.now(UTC) - timedelta(days=100)
    old = Taskflow(store, clock=lambda: then)
    try:
        with receiving() as receiver:
            old.webhook(receiver.url("/hook"))
            for n in range(3):
                old.create({"n": n}, idempotency_key=f"key-{n}")

            def delivered() -> bool:
                old.deliver_pending(timeout=2)
                return len(receiver.accepted()) >= 3

            eventually(delivered)
        now = Taskflow(store)
        now.create({"n": "new"})
        # PostgreSQL places a change in the feed a moment after it commits; until the new
        # one is placed, the newest old one is the feed's newest, which a prune keeps.
        eventually(lambda: now.prune(MONTH, dry_run=True)["changes"] == 3)
        return now.prune(MONTH, dry_run=True)
    finally:
        store.close()


def _left(dsn: str) -> dict[str, int]:
    store = store_from_url(dsn)
    try:
        return Taskflow(store).prune(MONTH, dry_run=True)
    finally:
        store.close()


def test_serve_prunes_on_its_schedule_from_one_worker(store: str, tmp_path: Path) -> None:
    due = _seed(store)
    assert due == {"changes": 3, "deliveries": 3, "idempotencyKeys": 3}
    port = free_port()
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "2"]
    command += ["--dsn", store, "--prune-older-than", "30d", "--prune-every", "1s"]

    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        eventually(lambda: _left(store) == dict.fromkeys(due, 0), within=30)
        time.sleep(3)  # a few more turns of both workers: still the one prunes
        log = server.log

    assert "pruning what is older than 30d every 1s, from one worker at a time" in log
    assert len(re.findall(r"prunes on the schedule from now on", log)) == 1
    assert "pruned 3 change(s), 3 delivery(ies), 3 idempotency key(s)" in log
    # The cases and their logs stay.
    kept = store_from_url(store)
    try:
        assert Taskflow(kept).list()["meta"]["count"] == 4
    finally:
        kept.close()
