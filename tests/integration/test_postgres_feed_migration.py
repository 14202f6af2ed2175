"""Migration 0010 on a database with a feed written by the (txid, id) design: the rows keep
their order, cursors handed out before still read on from where they were, and webhooks
carry on from where their relays had fanned out (taskflow_postgres/changes.py)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from taskflow_core import Taskflow
from taskflow_core.application.feed import encode_cursor
from taskflow_core.domain.model import Position
from taskflow_postgres import PostgresStore
from taskflow_postgres.migrate import available
from tests.receiver import Receiver, eventually, receiving

pytestmark = pytest.mark.postgres

BEFORE = 9  # the last migration of the (txid, id) design
CASES = {
    "a": "00000000-0000-4000-8000-00000000000a",
    "b": "00000000-0000-4000-8000-00000000000b",
    "c": "00000000-0000-4000-8000-00000000000c",
}
# (feed id, txid, case, entry): ids in another order than txids, as concurrent writers left
# them; the old order, (txid, id), is b1, a1, a2, c1.
FEED = [
    (1, 500, "a", "00000000-0000-4000-8000-0000000000a1"),
    (2, 400, "b", "00000000-0000-4000-8000-0000000000b1"),
    (3, 600, "a", "00000000-0000-4000-8000-0000000000a2"),
    (4, 600, "c", "00000000-0000-4000-8000-0000000000c1"),
]
OLD_ORDER = [FEED[1][3], FEED[0][3], FEED[2][3], FEED[3][3]]
LAST = 2**63 - 1


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture
def old_dsn(postgres_empty_dsn: str, receiver: Receiver) -> str:
    """The test's database as the (txid, id) design left it: migrated up to 0009, with a
    feed, a webhook fanned out up to a1, and a1's delivery done."""
    with psycopg.connect(postgres_empty_dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE taskflow_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in available():
            if migration.version <= BEFORE:
                conn.execute(migration.script)
                conn.execute(
                    "INSERT INTO taskflow_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
        for case in CASES.values():
            conn.execute(
                "INSERT INTO cases (id, status, data, created_at, updated_at)"
                " VALUES (%s, 'new', '{}', now(), now())",
                (case,),
            )
        for feed_id, txid, case, entry in FEED:
            conn.execute(
                "INSERT INTO activity_log (id, case_id, event_name, event, created_at,"
                " updated_at) VALUES (%s, %s, 'comment', '{}', now(), now())",
                (entry, CASES[case]),
            )
            conn.execute(
                "INSERT INTO change_feed (id, txid, case_id, entry_id) VALUES (%s, %s, %s, %s)",
                (feed_id, txid, CASES[case], entry),
            )
        conn.execute("SELECT setval('change_feed_id_seq', 4)")
        conn.execute(
            "INSERT INTO webhooks (url, events, cursor_txid, cursor_id)"
            " VALUES (%s, '[\"*\"]', 500, 1)",
            (receiver.url(),),
        )
        conn.execute(
            "INSERT INTO webhook_deliveries (id, webhook_url, change_txid, change_id, case_id,"
            " event_name, status, attempts, created_at)"
            " VALUES (gen_random_uuid(), %s, 500, 1, %s, 'comment', 'delivered', 1, now())",
            (receiver.url(), CASES["a"]),
        )
    return postgres_empty_dsn


@pytest.fixture
def store(old_dsn: str) -> Iterator[PostgresStore]:
    store = PostgresStore(old_dsn, max_size=2)
    assert store.migrate() == [m.name for m in available() if m.version > BEFORE]
    yield store
    store.close()


def entries(flow: Taskflow, after: str | None = None) -> list[str]:
    return [item["entry"]["id"] for item in flow.changes(after)["data"]]


class TestMigratingTheFeed:
    def test_the_rows_keep_their_order_and_new_ones_come_after(self, store: PostgresStore) -> None:
        flow = Taskflow(store)
        assert entries(flow) == OLD_ORDER
        case = flow.create({})
        items = flow.changes()["data"]
        assert [item["entry"]["id"] for item in items[:4]] == OLD_ORDER
        assert [item["caseId"] for item in items[4:]] == [case["id"]]

    @pytest.mark.parametrize(
        ("old", "expected"),
        [
            (Position(500, 1), OLD_ORDER[2:]),  # an item's cursor: a1
            (Position(400, 2), OLD_ORDER[1:]),  # b1
            (Position(600, 4), []),  # the last one
            (Position(550, LAST), OLD_ORDER[2:]),  # an empty page's, from a head at 550
            (Position(399, LAST), OLD_ORDER),  # a head before them all
        ],
    )
    def test_a_cursor_handed_out_before_reads_on_from_where_it_was(
        self, store: PostgresStore, old: Position, expected: list[str]
    ) -> None:
        flow = Taskflow(store)
        case = flow.create({})
        cursor = encode_cursor(old)
        page = flow.changes(cursor)
        assert [item["entry"]["id"] for item in page["data"][: len(expected)]] == expected
        assert [item["caseId"] for item in page["data"][len(expected) :]] == [case["id"]]
        # The page's cursors are of the new kind, and read on as well.
        assert entries(flow, page["meta"]["next"]) == []

    def test_a_webhook_carries_on_from_where_it_was_fanned_out(
        self, store: PostgresStore, receiver: Receiver, old_dsn: str
    ) -> None:
        flow = Taskflow(store)
        case = flow.create({})

        def delivered() -> bool:
            flow.deliver_pending(timeout=2)
            return len(receiver.all()) >= 3

        eventually(delivered, within=10)
        assert [r.message["data"]["entry"]["id"] for r in receiver.all()[:2]] == OLD_ORDER[2:]
        assert receiver.all()[2].message["data"]["caseId"] == case["id"]
        # The delivery done before is still there, of the change it was for.
        (done,) = flow.deliveries(CASES["a"])[:1]
        assert done["status"] == "delivered"
        with psycopg.connect(old_dsn, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT change_txid, change_id FROM webhook_deliveries ORDER BY change_id"
            ).fetchall()
        assert rows[0] == (0, 2)  # a1's position
