"""A database the original Node.js taskflow created is adopted in place by ``taskflow migrate``."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from taskflow_cli.main import cli
from taskflow_core import Taskflow
from taskflow_postgres import PostgresStore
from taskflow_postgres.migrate import available

# Every migration shipped, in order: adopting the original's database applies them all.
MIGRATIONS = [migration.name for migration in available()]

pytestmark = pytest.mark.postgres

# The schema the original's knex migrations leave behind (kept verbatim beside this file).
ORIGINAL_SCHEMA = Path(__file__).parent / "data" / "original-schema.sql"

OPEN_CASE = "6f1c2c7e-8d0a-4b7e-9a55-0c7f0d1e2a3b"
CLOSED_CASE = "0b9e4c1a-1f2d-4e3c-8b7a-6d5e4f3a2b1c"
ALICE_UUID = "1e6a1b3c-5d7f-4a9b-8c0d-2e4f6a8b0c1d"

# Rows as the original writes them: its own ids, uuid actors, non-UTC timestamps.
ORIGINAL_ROWS = f"""
insert into cases (id, status, data, created_at, updated_at, assigned_to) values
  ('{OPEN_CASE}', 'open', '{{"subject": "licence", "model": "pil"}}',
   '2021-03-01 10:00:00.123456+01', '2021-03-02 09:30:00+01', '{ALICE_UUID}'),
  ('{CLOSED_CASE}', 'closed', '{{"subject": "renewal", "nested": {{"a": [1, 2]}}}}',
   '2021-04-01 08:00:00+00', '2021-04-05 17:45:10.5+00', null);
insert into activity_log (case_id, changed_by, event_name, event, comment, created_at, updated_at)
values
  ('{OPEN_CASE}', '{ALICE_UUID}', 'create', '{{"event": "create"}}', null,
   '2021-03-01 10:00:00.123456+01', '2021-03-01 10:00:00.123456+01'),
  ('{OPEN_CASE}', '{ALICE_UUID}', 'status:new:open', '{{"event": "status:new:open"}}', null,
   '2021-03-02 09:30:00+01', '2021-03-02 09:30:00+01'),
  ('{OPEN_CASE}', '{ALICE_UUID}', 'comment', '{{"event": "comment"}}', 'first look',
   '2021-03-02 09:31:00+01', '2021-03-02 09:31:00+01'),
  ('{CLOSED_CASE}', null, 'create', '{{"event": "create"}}', null,
   '2021-04-01 08:00:00+00', '2021-04-01 08:00:00+00');
"""

# Every row's content, but for the columns migrations add: the cases' version, and the log's
# seq (NULL on the rows there before it, by design: no rewrite of the table).
SNAPSHOT = """
select 'cases', (to_jsonb(c) - 'version')::text from cases c
union all select 'activity_log', (to_jsonb(a) - 'seq')::text from activity_log a
union all select 'knex_migrations', row_to_json(k)::text from knex_migrations k
order by 1, 2
"""


def snapshot(dsn: str) -> list[tuple[str, Any]]:
    """Every row of the original's tables, as JSON text: a uuid and its text form agree."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(SNAPSHOT).fetchall()


@pytest.fixture
def original_dsn(postgres_empty_dsn: str) -> str:
    with psycopg.connect(postgres_empty_dsn, autocommit=True) as conn:
        conn.execute(ORIGINAL_SCHEMA.read_bytes())
        conn.execute(ORIGINAL_ROWS.encode())
    return postgres_empty_dsn


@pytest.fixture
def store(original_dsn: str) -> Iterator[PostgresStore]:
    store = PostgresStore(original_dsn)
    yield store
    store.close()


class TestMigratingTheOriginalsDatabase:
    def test_applies_every_migration_and_leaves_every_row_as_it_was(
        self, original_dsn: str, store: PostgresStore
    ) -> None:
        before = snapshot(original_dsn)
        assert len(before) == 2 + 4 + 6

        applied = store.migrate()

        assert applied == MIGRATIONS
        assert snapshot(original_dsn) == before

    def test_every_existing_case_starts_at_version_1(
        self, original_dsn: str, store: PostgresStore
    ) -> None:
        store.migrate()
        with psycopg.connect(original_dsn) as conn:
            versions = conn.execute("select id::text, version from cases order by 1").fetchall()
        assert versions == [(CLOSED_CASE, 1), (OPEN_CASE, 1)]

    def test_a_second_run_applies_nothing_and_changes_nothing(
        self, original_dsn: str, store: PostgresStore
    ) -> None:
        store.migrate()
        after_first = snapshot(original_dsn)

        assert store.migrate() == []
        assert snapshot(original_dsn) == after_first

    def test_the_command_line_adopts_it_then_reports_it_up_to_date(
        self, original_dsn: str, store: PostgresStore
    ) -> None:
        runner = CliRunner()
        first = runner.invoke(cli, ["migrate", "--dsn", original_dsn])
        second = runner.invoke(cli, ["migrate", "--dsn", original_dsn])

        assert (first.exit_code, second.exit_code) == (0, 0), first.output + second.output
        assert first.output.splitlines() == [
            f"migrating {store}",
            *(f"applied {name}" for name in MIGRATIONS),
        ]
        assert second.output.splitlines() == [f"migrating {store}", "database is up to date"]

    def test_actor_ids_become_text_that_reads_as_the_same_uuid(
        self, original_dsn: str, store: PostgresStore
    ) -> None:
        store.migrate()
        with psycopg.connect(original_dsn) as conn:
            column_type = conn.execute(
                "select data_type from information_schema.columns"
                " where table_name = 'activity_log' and column_name = 'changed_by'"
            ).fetchone()
            actors = conn.execute("select distinct changed_by from activity_log").fetchall()
        assert column_type == ("text",)
        assert sorted(actors, key=str) == sorted([(ALICE_UUID,), (None,)], key=str)


class TestServingTheOriginalsRows:
    @pytest.fixture
    def flow(self, store: PostgresStore) -> Taskflow:
        store.migrate()
        return Taskflow(store)

    def test_an_old_case_reads_with_its_log_newest_first(self, flow: Taskflow) -> None:
        case = flow.get(OPEN_CASE)

        assert case["status"] == "open"
        assert case["data"] == {"subject": "licence", "model": "pil"}
        assert case["assignedTo"] == ALICE_UUID
        assert case["createdAt"] == "2021-03-01T09:00:00.123Z"
        assert case["version"] == 1
        log = case["activityLog"]
        assert [e["eventName"] for e in log] == ["comment", "status:new:open", "create"]
        assert {e["changedBy"] for e in log} == {ALICE_UUID}
        assert log[0]["comment"] == "first look"

    def test_old_cases_are_listed_and_filtered(self, flow: Taskflow) -> None:
        assert [c["id"] for c in flow.list()["data"]] == [OPEN_CASE, CLOSED_CASE]
        assert flow.list({"data": {"model": "pil"}})["meta"]["count"] == 1
        assert [c["id"] for c in flow.list({"status": "closed"})["data"]] == [CLOSED_CASE]

    def test_old_cases_are_found_by_the_words_of_their_data_and_comments(
        self, flow: Taskflow
    ) -> None:
        assert [c["id"] for c in flow.list({"q": "licence first"})["data"]] == [OPEN_CASE]
        assert [c["id"] for c in flow.list({"q": "renew"})["data"]] == [CLOSED_CASE]
        assert flow.counts("status", {"q": "look"})["data"] == [{"value": "open", "count": 1}]

    def test_an_old_case_can_be_changed_and_commented_on(self, flow: Taskflow) -> None:
        user = {"profile": {"id": ALICE_UUID}}
        flow.update(CLOSED_CASE, {"nested": {"b": 3}}, user=user)
        flow.set_status(CLOSED_CASE, "reopened", user=user)
        case = flow.comment(CLOSED_CASE, "back again", user=user)

        assert case["data"] == {"subject": "renewal", "nested": {"a": [1, 2], "b": 3}}
        assert case["status"] == "reopened"
        assert case["version"] == 4
        assert [e["eventName"] for e in case["activityLog"]] == [
            "comment",
            "status:closed:reopened",
            "update",
            "create",
        ]
