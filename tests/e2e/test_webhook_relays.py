"""Webhooks end to end: two ``taskflow relay`` processes on one PostgreSQL database, sixteen
writers, two subscribers on a real HTTP receiver that later fails for a while."""

from __future__ import annotations

import base64
import signal
import subprocess
import textwrap
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taskflow_compose.sealing import AesGcmSealer
from taskflow_core import Taskflow
from taskflow_postgres import PostgresStore
from tests.e2e.serving import clean_env, start_logged, stop_all, taskflow_command
from tests.receiver import Receiver, eventually, receiving

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SECRET_ALL = "whsec_" + base64.b64encode(b"relay test key, 24 bytes").decode()
SECRET_SOME = "a plain passphrase"
# The key the relays and this test's flow seal and open the secrets with.
SECRET_KEY = b"e2e relay test key, 32 bytes...."
# The second subscriber takes status changes and comments only.
SOME_EVENTS = ("status:*:*", "comment")
WRITERS = 16
HOST_MODULE = """
    import os

    from taskflow_compose import database_url, store_from_url
    from taskflow_compose.sealing import sealer_from_environment
    from taskflow_core import Taskflow

    flow = Taskflow(
        store_from_url(database_url()),
        allow_private_webhooks=True,
        secrets=sealer_from_environment(),
    )
    flow.webhook(os.environ["RECEIVER_ALL"], secret=os.environ["SECRET_ALL"])
    flow.webhook(
        os.environ["RECEIVER_SOME"],
        events=("status:*:*", "comment"),
        secret=os.environ["SECRET_SOME"],
    )
"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture
def flow(postgres_dsn: str, receiver: Receiver) -> Iterator[Taskflow]:
    store = PostgresStore(postgres_dsn, max_size=WRITERS)
    store.migrate()
    flow = Taskflow(store, allow_private_webhooks=True, secrets=AesGcmSealer([SECRET_KEY]))
    flow.webhook(receiver.url("/all"), secret=SECRET_ALL)
    flow.webhook(receiver.url("/some"), events=SOME_EVENTS, secret=SECRET_SOME)
    yield flow
    store.close()


@pytest.fixture
def relays(
    tmp_path: Path, postgres_dsn: str, receiver: Receiver, flow: Taskflow
) -> Iterator[list[subprocess.Popen[bytes]]]:
    (tmp_path / "relayhost.py").write_text(textwrap.dedent(HOST_MODULE))
    env = clean_env(
        RECEIVER_ALL=receiver.url("/all"),
        RECEIVER_SOME=receiver.url("/some"),
        SECRET_ALL=SECRET_ALL,
        SECRET_SOME=SECRET_SOME,
        TASKFLOW_SECRET_KEY=base64.b64encode(SECRET_KEY).decode(),
    )
    command = [
        *taskflow_command(),
        "relay",
        "--dsn",
        postgres_dsn,
        "--app",
        "relayhost:flow",
        "--timeout",
        "2",
    ]
    started = [start_logged(command, tmp_path, env, f"relay-{n}") for n in range(2)]
    yield started
    stop_all(started)


def write_concurrently(flow: Taskflow, case_ids: list[str], per_writer: list[int]) -> None:
    """Each writer changes the cases in turn, so writers queue on each other's cases."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(per_writer))

    def write(writer: int) -> None:
        try:
            barrier.wait(timeout=30)
            for n in range(per_writer[writer]):
                case_id = case_ids[(writer + n) % len(case_ids)]
                match n % 4:
                    case 0:
                        flow.comment(case_id, f"from writer {writer}, #{n}")
                    case 1:
                        flow.set_status(case_id, f"step-{chr(97 + n % 26)}")
                    case 2:
                        flow.update(case_id, {f"writer-{writer}": n})
                    case _:
                        flow.assign(case_id, f"agent-{writer}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(len(per_writer))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []


def whole_feed(flow: Taskflow, count: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []

    def read() -> bool:
        nonlocal items
        items, cursor = [], None
        while page := flow.changes(cursor, limit=1000)["data"]:
            items += page
            cursor = page[-1]["cursor"]
        return len(items) >= count

    eventually(read, within=30)
    return items


def per_case(ids: list[tuple[str, str]]) -> dict[str, list[str]]:
    """``(case id, event id)`` pairs grouped by case, in the order given, repeats dropped."""
    found: dict[str, list[str]] = defaultdict(list)
    for case_id, event_id in ids:
        if event_id not in found[case_id]:
            found[case_id].append(event_id)
    return dict(found)


def expected(items: list[dict[str, Any]], path: str) -> list[tuple[str, str]]:
    wanted = [
        i
        for i in items
        if path == "/all"
        or i["entry"]["eventName"] == "comment"
        or i["entry"]["eventName"].startswith("status:")
    ]
    return [(i["caseId"], i["entry"]["id"]) for i in wanted]


def received(receiver: Receiver, path: str) -> list[tuple[str, str]]:
    return [(r.message["data"]["caseId"], r.headers["webhook-id"]) for r in receiver.accepted(path)]


def test_two_relays_deliver_every_event_once_in_order_and_nothing_is_lost_in_an_outage(
    flow: Taskflow,
    receiver: Receiver,
    relays: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    case_ids = [flow.create({"n": n})["id"] for n in range(WRITERS)]
    # 16 creates and 184 changes: 200 events.
    write_concurrently(flow, case_ids, [12 if w < 8 else 11 for w in range(WRITERS)])
    items = whole_feed(flow, 200)
    assert len(items) == 200

    for path, secret in (("/all", SECRET_ALL), ("/some", SECRET_SOME)):
        want = expected(items, path)
        eventually(lambda path=path, want=want: len(receiver.all(path)) >= len(want), within=30)
        got = received(receiver, path)
        # The normal path: each event once, and each case's events in commit order.
        assert sorted(got) == sorted(want)
        assert len(receiver.all(path)) == len(want)
        assert per_case(got) == per_case(want)
        assert all(r.signature_is_valid(secret) for r in receiver.all(path))
    assert {r.message["type"] for r in receiver.all("/some")} <= {"comment"} | {
        i["entry"]["eventName"] for i in items if i["entry"]["eventName"].startswith("status:")
    }

    # The receiver fails: first answering 500, then not listening at all; then it is back.
    receiver.default = (500, 0.0)
    write_concurrently(flow, case_ids, [3] * 8)
    eventually(lambda: any(not r.accepted for r in receiver.all()), within=30)
    receiver.stop()
    write_concurrently(flow, case_ids, [2] * 8)
    time.sleep(2)
    receiver.default = (200, 0.0)
    receiver.start()

    items = whole_feed(flow, 240)
    for path, secret in (("/all", SECRET_ALL), ("/some", SECRET_SOME)):
        want = expected(items, path)

        def caught_up(path: str = path, want: list[tuple[str, str]] = want) -> bool:
            return set(received(receiver, path)) >= set(want)

        eventually(caught_up, within=40)
        # At least once, and still in order per case once repeats are dropped.
        assert per_case(received(receiver, path)) == per_case(want)
        assert all(r.signature_is_valid(secret) for r in receiver.all(path))

    retried = [d for cid in case_ids for d in flow.deliveries(cid) if d["attempts"] > 1]
    assert retried
    assert all(d["status"] == "delivered" and d["lastError"] for d in retried)

    for process in relays:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    for n in range(2):
        log = (tmp_path / f"relay-{n}.log").read_text()
        assert "Traceback" not in log, log
        # Both relays did part of the work.
        assert "delivered" in log.replace("relay delivering", ""), log
