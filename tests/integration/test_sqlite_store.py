"""SqliteStore's own behaviour: what it writes to the file, its transactions, its listing."""

import itertools
import sqlite3
import threading
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from taskflow_core import ActivityEntry, Case, Conflict, ListQuery, NotFound, StoreUnavailable
from taskflow_core.application.query import SortColumn
from taskflow_core.memory import MemoryStore
from taskflow_core.ports import Store
from taskflow_sqlite import SqliteStore
from taskflow_sqlite.unit_of_work import NestedTransactionError

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def make_case(
    n: int,
    *,
    status: str = "new",
    assigned_to: str | None = None,
    created_at: datetime = T0,
    updated_at: datetime = T0,
    data: dict[str, object] | None = None,
) -> Case:
    return Case(
        id=f"00000000-0000-4000-8000-{n:012d}",
        status=status,
        data={"n": n} if data is None else data,
        assigned_to=assigned_to,
        created_at=created_at,
        updated_at=updated_at,
    )


def add(store: Store, *cases: Case) -> None:
    with store.unit_of_work() as uow:
        for case in cases:
            uow.cases.add(case)
        uow.commit()


def get(store: Store, case_id: str) -> Case | None:
    with store.unit_of_work() as uow:
        return uow.cases.get(case_id)


def raw(store: SqliteStore, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(store.path)) as conn:
        return conn.execute(sql).fetchall()


class TestStorageFormat:
    def test_timestamps_are_fixed_width_utc_text_and_read_back_as_the_same_instant(
        self, sqlite_store: SqliteStore
    ) -> None:
        paris = timezone(timedelta(hours=1))
        created = datetime(2026, 11, 27, 9, 0, tzinfo=paris)
        add(sqlite_store, make_case(1, created_at=created, updated_at=created))

        assert raw(sqlite_store, "SELECT created_at FROM cases") == [
            ("2026-11-27T08:00:00.000000+00:00",)
        ]
        case = get(sqlite_store, make_case(1).id)
        assert case is not None
        assert case.created_at == created
        assert case.created_at.utcoffset() == timedelta(0)

    def test_data_is_json_text(self, sqlite_store: SqliteStore) -> None:
        add(sqlite_store, make_case(1, data={"name": "Zoë", "list": [1, None]}))
        assert raw(sqlite_store, "SELECT data FROM cases") == [('{"name":"Zoë","list":[1,null]}',)]


class TestConstraintErrors:
    """Translated to the core's errors as the PostgreSQL store translates them."""

    def test_activity_for_an_unknown_case_is_not_found(self, sqlite_store: SqliteStore) -> None:
        entry = ActivityEntry(
            id="10000000-0000-4000-8000-000000000000",
            case_id=make_case(404).id,
            changed_by=None,
            event_name="comment",
            event={},
            comment="orphan",
            created_at=T0,
            updated_at=T0,
        )
        with pytest.raises(NotFound), sqlite_store.unit_of_work() as uow:
            uow.activity.add(entry)

    def test_a_second_case_with_the_same_id_is_a_conflict(self, sqlite_store: SqliteStore) -> None:
        add(sqlite_store, make_case(1))
        with pytest.raises(Conflict):
            add(sqlite_store, make_case(1, status="other"))
        assert get(sqlite_store, make_case(1).id) == make_case(1)

    def test_saving_a_case_that_does_not_exist_is_not_found(
        self, sqlite_store: SqliteStore
    ) -> None:
        with pytest.raises(NotFound), sqlite_store.unit_of_work() as uow:
            uow.cases.save(make_case(1))


class TestTransactions:
    def test_leaving_without_commit_rolls_back(self, sqlite_store: SqliteStore) -> None:
        with sqlite_store.unit_of_work() as uow:
            uow.cases.add(make_case(1))
        assert get(sqlite_store, make_case(1).id) is None

    def test_writes_after_commit_need_a_commit_of_their_own(
        self, sqlite_store: SqliteStore
    ) -> None:
        with sqlite_store.unit_of_work() as uow:
            uow.cases.add(make_case(1))
            uow.commit()
            uow.cases.add(make_case(2))
        assert get(sqlite_store, make_case(1).id) is not None
        assert get(sqlite_store, make_case(2).id) is None

    def test_after_sqlite_rolls_back_by_itself_nothing_more_runs_or_commits(
        self, sqlite_store: SqliteStore
    ) -> None:
        with sqlite_store.unit_of_work() as uow:
            uow.cases.add(make_case(1))
            # What SQLite does on its own after a full disk or an I/O error.
            uow._connection().execute("ROLLBACK")
            with pytest.raises(sqlite3.OperationalError, match="rolled back"):
                uow.cases.add(make_case(2))
            with pytest.raises(sqlite3.OperationalError, match="rolled back"):
                uow.commit()
        assert get(sqlite_store, make_case(1).id) is None
        assert get(sqlite_store, make_case(2).id) is None

    def test_a_nested_unit_of_work_in_one_thread_fails_at_once(
        self, sqlite_store: SqliteStore
    ) -> None:
        # It would otherwise wait for its own thread's write lock until the busy timeout.
        with sqlite_store.unit_of_work():
            started = time.monotonic()
            with pytest.raises(NestedTransactionError), sqlite_store.unit_of_work():
                pass
            assert time.monotonic() - started < 1

    def test_a_unit_of_work_after_commit_may_run_inside_the_block(
        self, sqlite_store: SqliteStore
    ) -> None:
        with sqlite_store.unit_of_work() as outer:
            outer.cases.add(make_case(1))
            outer.commit()
            with sqlite_store.unit_of_work() as inner:
                assert inner.cases.get(make_case(1).id) is not None

    def test_a_second_writer_waits_for_the_first_to_finish(self, sqlite_store: SqliteStore) -> None:
        add(sqlite_store, make_case(1))
        entered = threading.Event()
        seen: list[str] = []

        def other_writer() -> None:
            with sqlite_store.unit_of_work() as uow:
                entered.set()
                case = uow.cases.get(make_case(1).id, lock=True)
                assert case is not None
                seen.append(case.status)

        with sqlite_store.unit_of_work() as uow:
            uow.cases.save(make_case(1, status="first"))
            thread = threading.Thread(target=other_writer)
            thread.start()
            assert not entered.wait(0.3)
            uow.commit()
        thread.join(10)
        assert seen == ["first"]

    def test_a_busy_database_fails_only_after_the_busy_timeout(self, tmp_path: Path) -> None:
        impatient = SqliteStore(tmp_path / "busy.db", busy_timeout=0.2)
        holder = SqliteStore(tmp_path / "busy.db")
        holder.migrate()
        with holder.unit_of_work():
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match="locked"):
                impatient.migrate()
            assert time.monotonic() - started >= 0.2
        impatient.close()
        holder.close()

    def test_a_writer_kept_waiting_past_the_busy_timeout_is_told_the_store_is_unavailable(
        self, tmp_path: Path
    ) -> None:
        impatient = SqliteStore(tmp_path / "busy.db", busy_timeout=0.2)
        impatient.migrate()
        with closing(sqlite3.connect(tmp_path / "busy.db", isolation_level=None)) as holder:
            holder.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreUnavailable, match="locked"), impatient.unit_of_work():
                pass
            holder.execute("ROLLBACK")
        with impatient.unit_of_work() as uow:
            uow.cases.add(make_case(1))
            uow.commit()
        impatient.close()

    def test_a_closed_store_refuses_new_work(self, sqlite_store: SqliteStore) -> None:
        sqlite_store.close()
        with pytest.raises(RuntimeError, match="closed"), sqlite_store.unit_of_work():
            pass


# Equal creation times, NULL assignees and repeated statuses, so that every tie-break and
# NULL placement of the ORDER BY is exercised; MemoryStore is the reference.
def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


DATASET = [
    make_case(1, status="open", assigned_to="bob", created_at=at(2), updated_at=at(5)),
    make_case(2, status="new", assigned_to=None, created_at=at(1), updated_at=at(5)),
    make_case(3, status="open", assigned_to="ada", created_at=at(1), updated_at=at(1)),
    make_case(4, status="closed", assigned_to=None, created_at=at(0), updated_at=at(6)),
    make_case(5, status="new", assigned_to="bob", created_at=at(3), updated_at=at(3)),
    make_case(6, status="open", assigned_to=None, created_at=at(3), updated_at=at(4)),
]

COLUMNS: list[SortColumn | None] = [None, "createdAt", "updatedAt", "status", "assignedTo", "id"]
SORTS = list(itertools.product(COLUMNS, [True, False]))
QUERIES = [
    *(ListQuery(sort_column=column, ascending=asc) for column, asc in SORTS),
    *(
        ListQuery(sort_column=column, ascending=asc, limit=2, offset=offset)
        for (column, asc), offset in itertools.product(SORTS, [0, 2, 5, 9])
    ),
    ListQuery(statuses=("open", "new")),
    ListQuery(assigned_to=("bob",)),
    ListQuery(exclude_statuses=("open",)),
    ListQuery(exclude_assigned_to=("bob",)),
    ListQuery(exclude_assigned_to=("bob", "ada"), exclude_statuses=("closed",)),
    ListQuery(statuses=("open",), assigned_to=("ada", "bob"), sort_column="id", ascending=False),
    ListQuery(data={"n": 3}),
    ListQuery(limit=0),
]


class TestListingMatchesMemoryStore:
    @pytest.mark.parametrize("query", QUERIES, ids=repr)
    def test_same_page_and_count(self, sqlite_store: SqliteStore, query: ListQuery) -> None:
        memory = MemoryStore()
        add(memory, *DATASET)
        add(sqlite_store, *DATASET)
        with memory.unit_of_work() as m_uow, sqlite_store.unit_of_work() as s_uow:
            expected, got = m_uow.cases.list(query), s_uow.cases.list(query)
        assert [c.id for c in got.cases] == [c.id for c in expected.cases]
        assert got.count == expected.count
        assert got.cases == expected.cases
