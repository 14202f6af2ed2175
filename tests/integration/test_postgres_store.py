"""PostgresStore itself: how it connects, its pool across a fork, and its edge cases."""

import multiprocessing
import random
import string
import time
import uuid
from datetime import UTC, datetime

import attrs
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from taskflow_core import ActivityEntry, Conflict, ListQuery, NotFound, Taskflow
from taskflow_core.errors import StoreUnavailable
from taskflow_postgres import DatabaseUnavailable, PostgresStore
from taskflow_postgres.errors import LimitExceeded
from taskflow_postgres.migrate import available

pytestmark = pytest.mark.postgres


@pytest.fixture
def parts(postgres_empty_dsn: str) -> dict[str, str]:
    return conninfo_to_dict(postgres_empty_dsn)  # type: ignore[return-value]


def create_in_child(store: PostgresStore, created: "multiprocessing.Queue[str]") -> None:
    created.put(Taskflow(store).create({"from": "child"})["id"])


class TestConnecting:
    def test_keywords_alone_name_the_database(self, parts: dict[str, str]) -> None:
        store = PostgresStore(
            host=parts["host"], port=parts["port"], user=parts["user"], database=parts["dbname"]
        )
        assert len(store.migrate()) == len(available())
        store.close()

    def test_a_keyword_overrides_the_same_part_of_the_dsn(
        self, postgres_empty_dsn: str, parts: dict[str, str]
    ) -> None:
        wrong_port = postgres_empty_dsn.replace(f":{parts['port']}/", ":1/")
        store = PostgresStore(wrong_port, port=parts["port"])
        assert len(store.migrate()) == len(available())
        store.close()

    def test_an_unreachable_server_fails_fast_with_a_one_line_reason(self) -> None:
        store = PostgresStore(host="127.0.0.1", port=1, user="nobody", database="x", timeout=1)
        with pytest.raises(DatabaseUnavailable, match="Connection refused") as raised:
            store.migrate()
        assert "\n" not in str(raised.value)
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable), store.unit_of_work():
            pass
        assert time.monotonic() - started < 5
        store.close()

    def test_the_repr_never_shows_the_password(self) -> None:
        store = PostgresStore("postgresql://u:s3cret@db.example:5433/tf")
        assert "s3cret" not in repr(store)
        assert repr(store) == "PostgresStore(db.example:5433/tf)"

    def test_a_closed_store_refuses_new_work(self, postgres_store: PostgresStore) -> None:
        postgres_store.close()
        with pytest.raises(RuntimeError, match="closed"):
            postgres_store.unit_of_work()


class TestAcrossFork:
    def test_a_forked_child_opens_its_own_pool_and_the_parents_keeps_working(
        self, postgres_dsn: str
    ) -> None:
        store = PostgresStore(postgres_dsn, min_size=1, max_size=1, timeout=3)
        store.migrate()
        flow = Taskflow(store)
        ctx = multiprocessing.get_context("fork")
        created: multiprocessing.Queue[str] = ctx.Queue()
        # The parent holds its pool's only connection while the child works: a child using
        # the inherited pool would wait for it in vain (and share the parent's socket).
        with store.unit_of_work() as uow:
            assert uow.cases.list(ListQuery()).count == 0
            child = ctx.Process(target=create_in_child, args=(store, created))
            child.start()
            child.join(60)
            assert child.exitcode == 0
            # The parent's connection still works, and sees what the child committed.
            assert uow.cases.list(ListQuery()).count == 1

        assert flow.get(created.get(timeout=5))["data"] == {"from": "child"}
        assert flow.list()["meta"]["count"] == 1
        store.close()


class TestReading:
    def test_timestamps_are_utc_whatever_the_sessions_time_zone(
        self, postgres_dsn: str, parts: dict[str, str]
    ) -> None:
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(f"alter database \"{parts['dbname']}\" set timezone = 'Asia/Kolkata'")
        store = PostgresStore(postgres_dsn)
        store.migrate()
        flow = Taskflow(store)
        case = flow.create({})
        flow.comment(case["id"], "hello", user={"profile": {"id": "a"}})

        read = flow.get(case["id"])
        store.close()
        assert read["createdAt"] == case["createdAt"]
        assert read["createdAt"].endswith("Z")
        assert {e["createdAt"][-1:] for e in read["activityLog"]} == {"Z"}

    def test_a_malformed_id_finds_nothing_and_leaves_the_transaction_usable(
        self, postgres_store: PostgresStore
    ) -> None:
        case_id = Taskflow(postgres_store).create({})["id"]
        with postgres_store.unit_of_work() as uow:
            assert uow.cases.get("not-a-uuid", lock=True) is None
            assert uow.cases.get_with_activity("not-a-uuid") is None
            assert uow.activity.for_case("not-a-uuid") == []
            assert uow.cases.get(case_id) is not None

    def test_a_page_past_the_end_still_counts_every_match(
        self, postgres_store: PostgresStore
    ) -> None:
        flow = Taskflow(postgres_store)
        for _ in range(3):
            flow.create({"k": "v"})
        with postgres_store.unit_of_work() as uow:
            page = uow.cases.list(ListQuery(data={"k": "v"}, offset=5))
            empty = uow.cases.list(ListQuery(limit=0))
        assert (page.cases, page.count) == ([], 3)
        assert (empty.cases, empty.count) == ([], 3)


class TestWriting:
    def test_a_second_case_with_the_same_id_is_a_conflict(
        self, postgres_store: PostgresStore
    ) -> None:
        case_id = Taskflow(postgres_store).create({})["id"]
        with postgres_store.unit_of_work() as uow:
            existing = uow.cases.get(case_id)
            assert existing is not None
            with pytest.raises(Conflict):
                uow.cases.add(attrs.evolve(existing, data={"copy": True}))

    def test_a_log_entry_for_an_unknown_case_is_not_found(
        self, postgres_store: PostgresStore
    ) -> None:
        now = datetime.now(UTC)
        entry = ActivityEntry(
            id=str(uuid.uuid4()),
            case_id=str(uuid.uuid4()),
            changed_by=None,
            event_name="x",
            event={},
            comment=None,
            created_at=now,
            updated_at=now,
        )
        with postgres_store.unit_of_work() as uow, pytest.raises(NotFound):
            uow.activity.add(entry)

    def test_a_value_past_an_index_limit_is_a_store_error_never_an_outage(
        self, postgres_store: PostgresStore
    ) -> None:
        # What a 3,000-character profile.id did before ids were bounded where they enter:
        # PostgreSQL's "index row size exceeds btree maximum", which psycopg counts as an
        # OperationalError, was answered 503 "retry later".
        case_id = Taskflow(postgres_store).create({})["id"]
        letters = random.Random(1)
        actor = "".join(letters.choice(string.ascii_letters) for _ in range(3000))
        now = datetime.now(UTC)
        entry = ActivityEntry(
            id=str(uuid.uuid4()),
            case_id=case_id,
            changed_by=actor,
            event_name="x",
            event={},
            comment=None,
            created_at=now,
            updated_at=now,
        )
        with postgres_store.unit_of_work() as uow, pytest.raises(LimitExceeded) as raised:
            uow.activity.add(entry)
        assert not isinstance(raised.value, StoreUnavailable)
        assert "index row size" in str(raised.value)

    def test_data_that_is_not_json_is_refused_before_it_reaches_the_server(
        self, postgres_store: PostgresStore
    ) -> None:
        case_id = Taskflow(postgres_store).create({})["id"]
        with postgres_store.unit_of_work() as uow:
            existing = uow.cases.get(case_id, lock=True)
            assert existing is not None
            with pytest.raises(ValueError, match="JSON"):
                uow.cases.save(attrs.evolve(existing, data={"x": float("nan")}))
            # The server saw no bad statement, so the transaction goes on.
            uow.cases.save(attrs.evolve(existing, data={"x": 1}))
            uow.commit()
        assert Taskflow(postgres_store).get(case_id)["data"] == {"x": 1}

    def test_saving_a_case_that_does_not_exist_is_not_found(
        self, postgres_store: PostgresStore
    ) -> None:
        case_id = Taskflow(postgres_store).create({})["id"]
        with postgres_store.unit_of_work() as uow:
            existing = uow.cases.get(case_id)
            assert existing is not None
            with pytest.raises(NotFound):
                uow.cases.save(attrs.evolve(existing, id=str(uuid.uuid4())))
