"""Round trips per request: the SQL statements each endpoint sends, with no host hooks.

A regression that adds a query to a hot path (a re-read, a check, an N+1) fails here, in CI,
long before a benchmark would show it. The counts are what the work needs: a read is one
statement; a change locks its case, writes it (its new version included), logs (the entry
and its change-feed row, in one statement with the case's own write: ports.EntryWithCase;
the feed's sequencing step and NOTIFY run after the commit, on a connection of their own),
and answers with the case as that one statement returns it, with its log (no read back).
"""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta
from typing import Any

import falcon.testing
import psycopg
import pytest

import taskflow_core.application.case_body
import taskflow_core.application.export
import taskflow_core.application.query
from taskflow_core import Taskflow
from taskflow_falcon import create_app
from taskflow_postgres import PostgresStore
from tests.integration.http_support import HeaderAuth, as_user

# The names of the threads that act for a request beside its own.
REQUEST_THREADS = ("taskflow-bulk", "taskflow-export")


class Statements:
    """Every statement the request's thread executes, and every commit, while recording.

    Counted too: the threads a bulk action and an export start to act for the request
    (taskflow_core/application/bulk.py, export.py). Not counted: the pool's own threads,
    which open connections in the background, and the pool's liveness check (an empty
    query), which only runs on a connection left idle.
    """

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.thread: int | None = None

    def record(self, what: str) -> None:
        if self.thread is None or not what:
            return
        if threading.get_ident() == self.thread or threading.current_thread().name.startswith(
            REQUEST_THREADS
        ):
            self.sent.append(what)

    def during(self, action: Any) -> list[str]:
        self.sent, self.thread = [], threading.get_ident()
        try:
            action()
        finally:
            self.thread = None
        return self.sent


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Statements:
    seen = Statements()
    execute, commit = psycopg.Cursor.execute, psycopg.Connection.commit

    def counting_execute(self: psycopg.Cursor[Any], query: Any, *args: Any, **kw: Any) -> Any:
        text = query.decode() if isinstance(query, bytes) else str(query)
        seen.record(" ".join(text.split())[:60])
        return execute(self, query, *args, **kw)

    def counting_commit(self: psycopg.Connection[Any]) -> None:
        # A transaction of one statement (autocommit) has committed already: psycopg's
        # commit() sends nothing then.
        if self.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            seen.record("COMMIT")
        commit(self)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting_execute)
    monkeypatch.setattr(psycopg.Connection, "commit", counting_commit)
    return seen


@pytest.fixture
def client(postgres_store: PostgresStore) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(
        create_app(Taskflow(postgres_store), feed=True, middleware=[HeaderAuth()])
    )


@pytest.fixture
def case(client: falcon.testing.TestClient) -> dict[str, Any]:
    made = client.simulate_post("/", json={"subject": "x"}, headers=as_user("alice")).json["data"]
    client.simulate_post(f"/{made['id']}/comment", json={"comment": "hi"}, headers=as_user("alice"))
    found: dict[str, Any] = client.simulate_get(f"/{made['id']}").json["data"]
    return found


def comment_of(case: dict[str, Any]) -> str:
    return str(next(e["id"] for e in case["activityLog"] if e["eventName"] == "comment"))


# Statements per endpoint, COMMIT included; reads run in autocommit, so have none.
EXPECTED = {
    "GET /{id}": 1,  # the case and its log in one query
    "GET /{id} If-None-Match": 1,  # the same read; a 304 saves the body, not the query
    "GET /": 1,  # the page and its count in one query
    "GET /?q=": 1,  # the search is a condition of that query, not a lookup before it
    "GET /_counts": 1,  # every group in one query
    "GET / If-None-Match": 1,  # the same read; the weak ETag is of the body, made here
    "HEAD /": 1,  # GET without the body
    # A sequencing step (an index probe when nothing waits for a place: changes.py), then a
    # page of the feed, entries joined, in one query.
    "GET /_changes": 2,
    # The case's write, its log entry and the entry's feed row are one statement, which
    # returns the case with its whole log: the answer is not read back. With no hook to run
    # and nothing else to write, that statement is the whole transaction (autocommit).
    "POST /": 1,  # insert case (at version 1) with its entry
    # The version rides on the update a change makes anyway: no statement of its own. A
    # change that writes once, with no hook to run, goes without a transaction
    # (pipeline.go_alone): the case read, then written while still at the version read.
    "PUT /{id}": 2,  # read, update with its entry (each a transaction of its own)
    "PUT /{id}/status": 2,
    "PUT /{id}/assign": 2,
    "PUT /{id}/assign {}": 3,  # the assignee kept, the event logged: lock, bump+log, commit
    # A comment changes no column but the version, which costs the one UPDATE.
    "POST /{id}/comment": 2,  # read, bump the version with the entry
    "PUT /{id}/comment/{c}": 4,  # lock, read the log (authorship), bump+log, commit
    "DELETE /{id}/comment/{c}": 4,
    # The version is checked on the row the lock has just read: nothing more.
    "PUT /{id}/status If-Match": 2,
    # A key costs two: claim it first (the INSERT a concurrent twin waits on), and store the
    # answer at the end, with a few expired keys deleted in the same statement.
    "POST / Idempotency-Key": 4,
    "PUT /{id}/status Idempotency-Key": 5,
}


def requests(
    client: falcon.testing.TestClient, case: dict[str, Any]
) -> dict[str, tuple[str, str, dict[str, Any] | None, dict[str, str]]]:
    cid, comment = case["id"], comment_of(case)
    current = {"If-Match": f'"{case["version"]}"'}
    listing_tag = client.simulate_get("/").headers["etag"]
    return {
        "GET /{id}": ("GET", f"/{cid}", None, {}),
        "GET /{id} If-None-Match": ("GET", f"/{cid}", None, {"If-None-Match": current["If-Match"]}),
        "GET /": ("GET", "/?status=new&data[subject]=x", None, {}),
        "GET /?q=": ("GET", "/?q=x&status=new&createdAt[from]=2020-01-01", None, {}),
        "GET /_counts": ("GET", "/_counts?by=assignedTo&q=x&unassigned=true", None, {}),
        "GET / If-None-Match": ("GET", "/", None, {"If-None-Match": listing_tag}),
        "HEAD /": ("HEAD", "/", None, {}),
        "GET /_changes": ("GET", "/_changes?limit=10", None, {}),
        "POST /": ("POST", "/", {"subject": "y"}, {}),
        "PUT /{id}": ("PUT", f"/{cid}", {"data": {"more": 1}}, {}),
        "PUT /{id}/status": ("PUT", f"/{cid}/status", {"status": "open"}, {}),
        "PUT /{id}/assign": ("PUT", f"/{cid}/assign", {"profileId": "bob"}, {}),
        "PUT /{id}/assign {}": ("PUT", f"/{cid}/assign", {}, {}),
        "POST /{id}/comment": ("POST", f"/{cid}/comment", {"comment": "more"}, {}),
        "PUT /{id}/comment/{c}": ("PUT", f"/{cid}/comment/{comment}", {"comment": "edit"}, {}),
        "DELETE /{id}/comment/{c}": ("DELETE", f"/{cid}/comment/{comment}", None, {}),
        "PUT /{id}/status If-Match": ("PUT", f"/{cid}/status", {"status": "open"}, current),
        "POST / Idempotency-Key": ("POST", "/", {"subject": "y"}, {"Idempotency-Key": "a"}),
        "PUT /{id}/status Idempotency-Key": (
            "PUT",
            f"/{cid}/status",
            {"status": "open"},
            {"Idempotency-Key": "b"},
        ),
    }


@pytest.mark.parametrize("endpoint", list(EXPECTED))
def test_each_endpoint_sends_no_more_statements_than_its_work_needs(
    client: falcon.testing.TestClient,
    case: dict[str, Any],
    statements: Statements,
    endpoint: str,
) -> None:
    method, path, body, headers = requests(client, case)[endpoint]

    def call() -> None:
        result = client.simulate_request(
            method, path, json=body, headers={**as_user("alice"), **headers}
        )
        assert result.status_code in (200, 304), result.text

    sent = statements.during(call)

    assert len(sent) == EXPECTED[endpoint], sent


def test_a_replayed_request_only_claims_its_key_and_reads_the_answer(
    client: falcon.testing.TestClient, statements: Statements
) -> None:
    headers = {**as_user("alice"), "Idempotency-Key": "again"}
    first = client.simulate_post("/", json={"subject": "z"}, headers=headers)

    def call() -> None:
        result = client.simulate_post("/", json={"subject": "z"}, headers=headers)
        assert result.headers["idempotent-replayed"] == "true"
        assert result.content == first.content

    # The claim finds the key answered (and locks it), the read fetches the answer; nothing
    # is written, so nothing is committed.
    assert len(statements.during(call)) == 2


def test_a_listing_past_its_budget_reads_the_rest_in_batches_within_it(
    client: falcon.testing.TestClient, statements: Statements, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(6):
        client.simulate_post("/", json={"big": "yes", "text": "x" * 1000})
    monkeypatch.setattr(taskflow_core.application.query, "LISTING_BUDGET", 2500)

    def call() -> None:
        result = client.simulate_get("/?data[big]=yes")
        assert len(result.json["data"]) == 6

    # The page with its count and the two cases that fit, then the other four by id, two
    # at a time: one statement per budget's worth of data, never one per case.
    assert len(statements.during(call)) == 3


def test_a_long_log_reads_its_first_page_again_in_a_snapshot_then_a_page_a_statement(
    client: falcon.testing.TestClient, statements: Statements, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = client.simulate_post("/", json={}).json["data"]
    for _ in range(6):
        # Random text: PostgreSQL would compress a repeated one to almost nothing.
        text = secrets.token_hex(500)
        client.simulate_post(f"/{made['id']}/comment", json={"comment": text})
    monkeypatch.setattr(taskflow_core.application.case_body, "LOG_BUDGET", 5000)

    def call() -> None:
        result = client.simulate_get(f"/{made['id']}")
        assert len(result.json["data"]["activityLog"]) == 7

    # The case with the first page (it goes on); the same in a snapshot; the comment edits;
    # then a statement a page, never one per entry.
    sent = statements.during(call)
    assert sent[0] == sent[1]
    assert sent[0].startswith('SELECT "cases"."id"')
    assert sent[2].startswith('SELECT "id", "case_id", "changed_by"')
    assert 1 <= len(sent[3:]) <= 3
    assert all(s.startswith("SELECT * FROM ( SELECT entry") for s in sent[3:])


# With deadlines declared (SPEC §14): a change reads the case's deadline states with its
# lock (taskflow_postgres/deadlines.py, hold), so neither the answer nor a status change
# reads them again; one that moves a deadline writes the state with its timers in one
# statement. A read costs one more: the states beside the case or the page.
DEADLINE_EXPECTED = {
    "GET /{id}": 2,  # the case with its log, its deadline states
    "GET /": 2,  # the page with its count, the page's deadline states
    # lock with the states, write the state and its timer, update with the entry, commit
    "PUT /{id}/status starting a deadline": 4,
    # the same for the change that ends it: the state written and its timer gone, at once
    "PUT /{id}/status stopping a deadline": 4,
    # as without deadlines: the states came with the lock
    "PUT /{id}/status naming no deadline": 3,
}


@pytest.mark.parametrize("endpoint", list(DEADLINE_EXPECTED))
def test_deadlines_cost_the_statements_pinned_here(
    postgres_store: PostgresStore, statements: Statements, endpoint: str
) -> None:
    flow = Taskflow(postgres_store).deadline(
        "decision", within=timedelta(days=5), starts=["open"], stops=["done"]
    )
    client = falcon.testing.TestClient(create_app(flow, middleware=[HeaderAuth()]))
    cid = client.simulate_post("/", json={"subject": "x"}).json["data"]["id"]
    if endpoint == "PUT /{id}/status stopping a deadline":
        flow.set_status(cid, "open")  # running, so that the change measured ends it
    method, path, body = {
        "GET /{id}": ("GET", f"/{cid}", None),
        "GET /": ("GET", "/", None),
        "PUT /{id}/status starting a deadline": ("PUT", f"/{cid}/status", {"status": "open"}),
        "PUT /{id}/status stopping a deadline": ("PUT", f"/{cid}/status", {"status": "done"}),
        "PUT /{id}/status naming no deadline": ("PUT", f"/{cid}/status", {"status": "other"}),
    }[endpoint]

    def call() -> None:
        result = client.simulate_request(method, path, json=body, headers=as_user("alice"))
        assert result.status_code == 200, result.text
        assert "deadlines" in str(result.json)

    assert len(statements.during(call)) == DEADLINE_EXPECTED[endpoint], statements.sent


def test_an_export_reads_a_statement_per_page_whatever_the_format(
    client: falcon.testing.TestClient, statements: Statements, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(7):
        client.simulate_post("/", json={"n": n})
    monkeypatch.setattr(taskflow_core.application.export, "PAGE_SIZE", 3)

    for fmt in ("ndjson", "csv"):

        def call(fmt: str = fmt) -> None:
            result = client.simulate_get("/_export", params={"format": fmt})
            assert result.status_code == 200
            assert len(result.text.strip().splitlines()) == (7 if fmt == "ndjson" else 8)

        # Pages of 3, 3 and 1 cases, each one statement by keyset on the id, uncounted:
        # the last page's shortness says it is the last.
        assert len(statements.during(call)) == 3, fmt


def test_a_bulk_action_costs_each_case_its_change_and_no_read_back(
    client: falcon.testing.TestClient, statements: Statements
) -> None:
    for n in range(3):
        client.simulate_post("/", json={"n": n})

    def call() -> None:
        body = {"query": {"status": "new"}, "action": {"status": "open"}}
        result = client.simulate_post("/_bulk", json=body, headers=as_user("alice"))
        assert result.json["meta"]["succeeded"] == 3

    # The selection (one statement), then per case: read, update with its entry (no hook
    # to run: no transaction, pipeline.go_alone); a batch answers a status per case, so no
    # case is read back.
    assert len(statements.during(call)) == 1 + 3 * 2
