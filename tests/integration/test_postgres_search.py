"""Search on PostgreSQL (migrations/0012_search.sql): answered from the index at 100,000
cases, and the words of every row, written by anyone, kept in the writer's transaction."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import attrs
import psycopg
import pytest
from psycopg import sql

from taskflow_core import Taskflow
from taskflow_core.application.query import LISTING_BUDGET, parse_list_query
from taskflow_core.application.views import make_view, resolve
from taskflow_postgres import PostgresStore
from taskflow_postgres.finding import count_by_statement
from taskflow_postgres.listing import encoded_list_statement, list_statement, where_clause

pytestmark = pytest.mark.postgres

# 100,000 cases in one statement, with words as real data has them: a name, a reference, a
# city shared by a third of the cases, a word shared by 20 ("w123x") and one of their own.
SEED = """
insert into cases (id, status, data, created_at, updated_at, assigned_to, version)
select gen_random_uuid(), (array['new', 'open', 'closed'])[n %% 3 + 1],
  jsonb_build_object(
    'applicant', jsonb_build_object('name', 'Applicant ' || n, 'email', 'a' || n || '@x.org'),
    'ref', 'REF-' || n, 'city', (array['London', 'Leeds', 'York'])[n %% 3 + 1],
    'tag', 'w' || (n %% 5000) || 'x', 'note', md5(n::text)),
  now() - make_interval(secs => n), now() - make_interval(secs => n), null, 1
from generate_series(1, %s) as n
"""


@pytest.fixture
def store(postgres_dsn: str) -> Iterator[PostgresStore]:
    store = PostgresStore(postgres_dsn)
    store.migrate()
    yield store
    store.close()


def plan(dsn: str, statement: sql.Composable, params: list[Any]) -> str:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(sql.SQL("EXPLAIN ") + statement, params).fetchall()
    return "\n".join(row[0] for row in rows)


# The seed's rows, indexed and counted as the migrations' backfills do it: the triggers that
# keep them one row at a time are off while it runs, so the 100,000 take seconds, not minutes.
INDEX_SEED = """
insert into case_search (case_id, document)
  select id, taskflow_search_document(id, data) from cases;
insert into case_status_counts (status, slot, cases)
  select status, 0, count(*) from cases group by status;
"""
RARE_WORDS = [
    {"q": "w123x"},
    {"q": "w123x", "status": "open"},
    {"q": "w123x", "sort": {"column": "updatedAt", "ascending": "false"}},
    {"q": "applicant w4242x"},
]


class TestAtScale:
    def test_a_rare_word_is_found_from_the_index_at_100000_cases(
        self, store: PostgresStore, postgres_dsn: str
    ) -> None:
        with psycopg.connect(postgres_dsn) as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute(SEED, (100_000,))
            conn.execute(INDEX_SEED)
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute("ANALYZE cases")
            conn.execute("ANALYZE case_search")
        flow = Taskflow(store)
        for query in RARE_WORDS:
            parsed = parse_list_query(query)
            for statement, params in (
                list_statement(parsed),
                encoded_list_statement(parsed, LISTING_BUDGET),
                count_by_statement(parsed, "status", *where_clause(parsed)),
            ):
                shown = plan(postgres_dsn, statement, params)
                assert "Seq Scan on cases" not in shown, shown
                assert "case_search_document_index" in shown, shown
            started = time.monotonic()
            body = flow.list(query)
            assert time.monotonic() - started < 1.0
            assert 0 < body["meta"]["count"] <= 20
            assert all(c["data"]["tag"] in ("w123x", "w4242x") for c in body["data"])

        # A status count with no other filter reads the counters, not the cases.
        parsed = parse_list_query({})
        shown = plan(postgres_dsn, *count_by_statement(parsed, "status", *where_clause(parsed)))
        assert "cases " not in shown.replace("case_status_counts", ""), shown
        counts = flow.counts("status")
        assert counts["meta"]["count"] == 100_000
        assert {group["value"] for group in counts["data"]} == {"new", "open", "closed"}
        # So does a view of statuses alone, as GET /_views counts it: its statuses are the
        # query's own, not a nested filter the counters cannot answer.
        parsed = resolve(
            {"open": make_view("open", {"status": ["open"]}, None)}, {"view": "open"}, None
        )
        statement, params = list_statement(attrs.evolve(parsed, limit=0))
        assert "case_status_counts" in plan(postgres_dsn, statement, params)

        # A listing whose one filter is q counts its rows of words, not the cases they name:
        # a word every case has, counted without looking 100,000 ids up in cases.
        parsed = parse_list_query({"q": "applicant", "limit": 0})
        shown = plan(postgres_dsn, *list_statement(parsed)).splitlines()
        counted = shown[next(n for n, line in enumerate(shown) if "Aggregate" in line) + 1]
        assert "on case_search" in counted, "\n".join(shown)
        assert flow.list({"q": "applicant", "limit": 0})["meta"]["count"] == 100_000
        assert flow.list({"q": "applicant", "status": "open"})["meta"]["count"] == 33_334


class TestRowsWrittenByAnyone:
    def test_a_case_inserted_and_changed_by_hand_is_found(
        self, store: PostgresStore, postgres_dsn: str
    ) -> None:
        with psycopg.connect(postgres_dsn) as conn:
            conn.execute(SEED, (3,))
            conn.execute('UPDATE cases SET data = data || \'{"extra": "Zanzibar"}\'')
        flow = Taskflow(store)
        assert flow.list({"q": "zanz"})["meta"]["count"] == 3
        assert flow.list({"q": "REF 2"})["meta"]["count"] == 1

    def test_cases_of_an_older_schema_are_found_after_the_migration(
        self, postgres_dsn: str
    ) -> None:
        store = PostgresStore(postgres_dsn)
        try:
            store.migrate()
            with psycopg.connect(postgres_dsn) as conn:
                # As before this migration: no search words, and none kept.
                conn.execute("DROP TABLE case_search CASCADE")
                conn.execute("DROP TRIGGER cases_searched_on_insert ON cases")
                conn.execute("DROP TRIGGER activity_searched_on_comment ON activity_log")
                conn.execute("DELETE FROM taskflow_migrations WHERE name = '0012_search'")
                conn.execute(SEED, (25_000,))
            started = time.monotonic()
            assert store.migrate() == ["0012_search"]
            print(f"backfilled 25,000 cases in {time.monotonic() - started:.1f} s")
            flow = Taskflow(store)
            assert flow.list({"q": "w17x"})["meta"]["count"] == 5
            assert flow.list({"q": "applicant"})["meta"]["count"] == 25_000
        finally:
            store.close()


# Each case's stored words against the words made again from its data and log.
STALE = """
select count(*) from cases
left join case_search on case_search.case_id = cases.id
where case_search.document is distinct from taskflow_search_document(cases.id, cases.data)
"""


class TestWordsKeptPerWrite:
    """migrations/0017_search_writes.sql and 0019_search_writes_leaner.sql keep the words by
    adding a comment's words, by taking a case's data's words alone while it has no
    comment, and by not writing a document that did not change: the result is what the
    whole document made again would be."""

    def test_every_write_leaves_the_words_a_rebuild_would_make(
        self, store: PostgresStore, postgres_dsn: str
    ) -> None:
        flow = Taskflow(store)
        ada = {"profile": {"id": "ada"}}
        data = {"tags": ["alpha", {"x": "beta"}]}
        cases = [flow.create({"name": f"Case {n}", **data}) for n in range(4)]
        for n, case in enumerate(cases):
            flow.comment(case["id"], f"Called about item {n}", user=ada)
            flow.comment(case["id"], "Called about item", user=ada)  # words it already has
            flow.set_status(case["id"], "open")
            flow.assign(case["id"], "ada")
        first = cases[0]["id"]
        entries = [e for e in flow.get(first)["activityLog"] if e["eventName"] == "comment"]
        flow.update_comment(first, entries[0]["id"], "rewritten", user=ada)
        flow.delete_comment(first, entries[1]["id"], user=ada)
        flow.update(cases[1]["id"], {"name": "Renamed"})
        flow.update(cases[2]["id"], {"name": "Case 2", "n": 7})  # no new word
        alone = flow.create({"name": "Alone"})  # no comment: its data's words alone
        flow.update(alone["id"], {"name": "Solitary", "tags": ["gamma"]})
        flow.comment(first, "after the edits", user=ada)
        with psycopg.connect(postgres_dsn) as conn:
            assert conn.execute(STALE).fetchone() == (0,)
        assert [c["id"] for c in flow.list({"q": "rewritten after"})["data"]] == [first]
        assert flow.list({"q": "item 0"})["meta"]["count"] == 0  # edited away
        assert flow.list({"q": "renamed item"})["meta"]["count"] == 1
        assert [c["id"] for c in flow.list({"q": "solitary gamma"})["data"]] == [alone["id"]]

    def test_an_unchanged_document_is_not_written_again(
        self, store: PostgresStore, postgres_dsn: str
    ) -> None:
        flow = Taskflow(store)
        case = flow.create({"name": "Smith", "n": 1})
        flow.comment(case["id"], "Called Smith", user=None)

        def row_version() -> Any:
            with psycopg.connect(postgres_dsn) as conn:
                found = conn.execute(
                    "SELECT ctid FROM case_search WHERE case_id = %s", (case["id"],)
                ).fetchone()
            assert found is not None
            return found[0]

        before = row_version()
        flow.update(case["id"], {"name": "Smith", "n": 2})
        flow.comment(case["id"], "smith", user=None)
        assert row_version() == before
        flow.comment(case["id"], "Jones", user=None)
        assert row_version() != before

    def test_a_case_written_without_its_words_is_found_once_written_to(
        self, store: PostgresStore, postgres_dsn: str
    ) -> None:
        # An adopted case whose row has no document (written with the triggers off, as a
        # replica or a bulk load would): its first comment or change makes the whole one.
        with psycopg.connect(postgres_dsn) as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute(SEED, (2,))
        flow = Taskflow(store)
        first, second = (c["id"] for c in flow.list({"sort": {"column": "id"}})["data"])
        assert flow.list({"q": "applicant"})["meta"]["count"] == 0
        flow.comment(first, "Zanzibar", user=None)
        flow.set_status(second, "open")
        flow.update(second, {"city": "Lagos"})
        assert [c["id"] for c in flow.list({"q": "zanz applicant"})["data"]] == [first]
        assert [c["id"] for c in flow.list({"q": "lagos applicant"})["data"]] == [second]
        with psycopg.connect(postgres_dsn) as conn:
            assert conn.execute(STALE).fetchone() == (0,)

    def test_a_comment_on_a_case_of_many_words_is_kept_within_the_bound(
        self, store: PostgresStore, postgres_dsn: str
    ) -> None:
        # Distinct words filling 0012's 256 kB of text: the comment's words would take the
        # document past 256 kB, so it is made again from the log (cut at 256 kB), and the
        # write succeeds.
        flow = Taskflow(store)
        case = flow.create({"text": " ".join(f"w{n:06d}" for n in range(40_000))})
        flow.comment(case["id"], " ".join(f"c{n:06d}" for n in range(2_000)), user=None)
        with psycopg.connect(postgres_dsn) as conn:
            assert conn.execute(STALE).fetchone() == (0,)
        assert flow.list({"q": "w000001"})["meta"]["count"] == 1
