"""Bulk actions from Python (SPEC §18), on every store: each case in a transaction of its
own through the whole write path, a row per case with its own route's status, ``meta.bulk``
on every entry, dry runs, and idempotent retries."""

from __future__ import annotations

import contextvars
import threading
import time
from typing import Any

import pytest

from taskflow_core import (
    Conflict,
    HookEvent,
    IdempotencyKeyReused,
    InvalidRequest,
    Taskflow,
)
from taskflow_core.application import bulk_request as bulk_module
from taskflow_core.ports import ConcurrentWriters, Store
from tests.contract.conftest import ALICE, BOB

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def make(flow: Taskflow, count: int, **data: Any) -> list[str]:
    return [flow.create({"n": n, **data}, user=ALICE)["id"] for n in range(count)]


def statuses(flow: Taskflow, ids: list[str]) -> list[str]:
    return [flow.get(case_id)["status"] for case_id in ids]


def log_of(flow: Taskflow, case_id: str) -> list[dict[str, Any]]:
    return flow.get(case_id)["activityLog"]  # type: ignore[no-any-return]


class TestActing:
    def test_a_status_by_ids_changes_each_case_and_answers_a_row_each(self, flow: Taskflow) -> None:
        ids = make(flow, 3)

        answer = flow.bulk({"status": "open"}, ids=ids, user=BOB)

        assert answer["data"] == [{"id": case_id, "status": 200} for case_id in ids]
        meta = answer["meta"]
        assert (meta["count"], meta["succeeded"], meta["failed"]) == (3, 3, 0)
        assert statuses(flow, ids) == ["open"] * 3
        for case_id in ids:
            entry = log_of(flow, case_id)[0]
            assert entry["eventName"] == "status:new:open"
            assert entry["changedBy"] == "bob"
            assert entry["event"]["meta"]["bulk"] == meta["bulk"]
            assert entry["event"]["meta"]["payload"] == {"status": "open"}

    def test_each_case_is_a_transaction_of_its_own_with_its_own_request_id(
        self, flow: Taskflow
    ) -> None:
        ids = make(flow, 2)

        flow.bulk({"status": "open"}, ids=ids, user=BOB)

        requests = {log_of(flow, case_id)[0]["event"]["req"] for case_id in ids}
        assert len(requests) == 2

    def test_the_batch_id_is_in_hooks_and_in_the_change_feed(self, flow: Taskflow) -> None:
        seen: list[Any] = []
        flow.hook("pre-assign", lambda event: seen.append(event.meta.get("bulk")))
        ids = make(flow, 2)

        answer = flow.bulk({"assign": "carol"}, ids=ids, user=BOB)

        assert seen == [answer["meta"]["bulk"]] * 2
        feed = [item for item in flow.changes(limit=1000)["data"]]
        bulked = [i for i in feed if i["entry"]["event"]["meta"].get("bulk")]
        assert sorted(i["caseId"] for i in bulked) == sorted(ids)
        assert {i["entry"]["eventName"] for i in bulked} == {"assign"}

    def test_an_event_a_hook_cascades_carries_the_batch_id_too(self, flow: Taskflow) -> None:
        @flow.hook("status:*:open")
        def close(event: HookEvent) -> None:
            event.set_status("closed")

        (case_id,) = make(flow, 1)
        answer = flow.bulk({"status": "open"}, ids=[case_id], user=BOB)

        entries = log_of(flow, case_id)[:2]
        assert [e["eventName"] for e in entries] == ["status:open:closed", "status:new:open"]
        assert {e["event"]["meta"]["bulk"] for e in entries} == {answer["meta"]["bulk"]}

    def test_where_the_store_has_concurrent_writers_cases_run_at_once_rows_in_order(
        self, flow: Taskflow, store: Store
    ) -> None:
        if not isinstance(store, ConcurrentWriters) or store.concurrent_writers < 2:
            pytest.skip("a store with one writer runs a batch's cases one after another")
        ids = make(flow, 8)
        # Each hook waits for another case's: only cases in flight together get past.
        together = threading.Barrier(2, timeout=10)
        lock = threading.Lock()
        flight = {"now": 0, "most": 0}

        @flow.hook("comment")
        def meet(event: HookEvent) -> None:
            with lock:
                flight["now"] += 1
                flight["most"] = max(flight["most"], flight["now"])
            try:
                together.wait()
                # The later ids end first: the rows must still come in the ids' order.
                time.sleep(0.002 * (8 - ids.index(event.id)))
            finally:
                with lock:
                    flight["now"] -= 1

        answer = flow.bulk({"comment": "hi"}, ids=ids, user=BOB)

        assert answer["data"] == [{"id": case_id, "status": 200} for case_id in ids]
        assert 2 <= flight["most"] <= store.concurrent_writers
        for case_id in ids:
            assert [e["eventName"] for e in log_of(flow, case_id)].count("comment") == 1

    def test_a_hook_sees_the_callers_context_variables(self, flow: Taskflow) -> None:
        tenant: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="none")
        seen: list[str] = []
        flow.hook("comment", lambda event: seen.append(tenant.get()))
        ids = make(flow, 3)

        token = tenant.set("acme")
        try:
            flow.bulk({"comment": "hi"}, ids=ids, user=BOB)
        finally:
            tenant.reset(token)

        assert seen == ["acme"] * 3

    def test_assign_to_nobody_and_comment_are_actions_too(self, flow: Taskflow) -> None:
        ids = make(flow, 2)
        flow.assign(ids[0], "bob", user=ALICE)

        flow.bulk({"assign": None}, ids=ids, user=ALICE)
        flow.bulk({"comment": "moved to the new team"}, ids=ids, user=ALICE)

        assert [flow.get(i)["assignedTo"] for i in ids] == [None, None]
        for case_id in ids:
            assert log_of(flow, case_id)[0]["comment"] == "moved to the new team"

    def test_duplicate_ids_are_acted_on_once(self, flow: Taskflow) -> None:
        (case_id,) = make(flow, 1)

        answer = flow.bulk({"comment": "once"}, ids=[case_id, case_id.upper(), case_id], user=BOB)

        assert answer["data"] == [{"id": case_id, "status": 200}]
        comments = [e for e in log_of(flow, case_id) if e["eventName"] == "comment"]
        assert len(comments) == 1

    def test_an_unknown_id_is_a_404_row_and_the_others_go_on(self, flow: Taskflow) -> None:
        ids = make(flow, 2)

        answer = flow.bulk({"status": "open"}, ids=[ids[0], UNKNOWN, ids[1]], user=BOB)

        assert [row["status"] for row in answer["data"]] == [200, 404, 200]
        assert answer["data"][1]["id"] == UNKNOWN
        assert answer["data"][1]["message"]
        assert (answer["meta"]["succeeded"], answer["meta"]["failed"]) == (2, 1)
        assert statuses(flow, ids) == ["open", "open"]

    def test_a_guard_refusing_some_cases_answers_403_rows_and_the_others_change(
        self, flow: Taskflow
    ) -> None:
        flow.transition("new", "open", guard=lambda case, user: case["data"]["n"] != 1)
        ids = make(flow, 3)

        answer = flow.bulk({"status": "open"}, ids=ids, user=BOB)

        assert [row["status"] for row in answer["data"]] == [200, 403, 200]
        assert statuses(flow, ids) == ["open", "new", "open"]

    def test_an_undeclared_transition_is_a_409_row(self, flow: Taskflow) -> None:
        flow.transition("new", "open")
        ids = make(flow, 1)

        answer = flow.bulk({"status": "closed"}, ids=ids, user=BOB)

        assert answer["data"][0]["status"] == 409

    def test_a_hook_failing_on_one_case_rolls_that_case_back_alone(self, flow: Taskflow) -> None:
        @flow.hook("status:new:open")
        def fail_on_one(event: HookEvent) -> None:
            if event.data["n"] == 1:
                raise RuntimeError("the hook broke")
            if event.data["n"] == 2:
                raise Conflict("not this one")

        ids = make(flow, 4)

        answer = flow.bulk({"status": "open"}, ids=ids, user=BOB)

        assert [row["status"] for row in answer["data"]] == [200, 500, 409, 200]
        assert answer["data"][1]["message"] == "Internal server error"  # nothing of the hook's
        assert answer["data"][2]["message"] == "not this one"
        assert statuses(flow, ids) == ["open", "new", "new", "open"]
        for case_id in ids[1:3]:
            assert [e["eventName"] for e in log_of(flow, case_id)] == ["create"]
            assert flow.get(case_id)["version"] == 1


class TestByQuery:
    def test_a_query_selects_the_cases_with_every_listing_filter(self, flow: Taskflow) -> None:
        dogs = make(flow, 2, kind="dog")
        cats = make(flow, 2, kind="cat")
        flow.set_status(dogs[1], "closed", user=ALICE)

        answer = flow.bulk(
            {"assign": "bob"}, query={"data": {"kind": "dog"}, "status": ["new"]}, user=ALICE
        )

        assert [row["id"] for row in answer["data"]] == [dogs[0]]
        assert [flow.get(i)["assignedTo"] for i in dogs + cats] == ["bob", None, None, None]

    def test_a_view_and_search_words_select_too(self, flow: Taskflow) -> None:
        flow.view("waiting", {"unassigned": True})
        ids = make(flow, 3)
        flow.comment(ids[0], "Urgent renewal", user=ALICE)
        flow.comment(ids[1], "urgent", user=ALICE)
        flow.assign(ids[1], "bob", user=ALICE)

        answer = flow.bulk({"status": "open"}, query={"view": "waiting", "q": "urg"}, user=ALICE)

        assert [row["id"] for row in answer["data"]] == [ids[0]]

    def test_a_query_matching_nothing_answers_an_empty_batch(self, flow: Taskflow) -> None:
        make(flow, 1)

        answer = flow.bulk({"status": "open"}, query={"status": ["nowhere"]}, user=ALICE)

        assert answer["data"] == []
        assert answer["meta"]["count"] == answer["meta"]["succeeded"] == 0

    def test_a_query_matching_more_than_the_limit_is_refused_and_changes_nothing(
        self, flow: Taskflow, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(bulk_module, "MAX_CASES", 3)
        ids = make(flow, 4)

        with pytest.raises(InvalidRequest) as raised:
            flow.bulk({"status": "open"}, query={}, user=ALICE)

        assert raised.value.errors == {"query": "too many"}
        assert statuses(flow, ids) == ["new"] * 4

    def test_a_query_with_exactly_the_limit_is_acted_on(
        self, flow: Taskflow, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(bulk_module, "MAX_CASES", 3)
        ids = make(flow, 3)

        answer = flow.bulk({"status": "open"}, query={}, user=ALICE)

        assert answer["meta"]["count"] == 3
        assert statuses(flow, ids) == ["open"] * 3

    @pytest.mark.parametrize("key", ["limit", "offset"])
    def test_a_query_with_paging_is_refused(self, flow: Taskflow, key: str) -> None:
        with pytest.raises(InvalidRequest) as raised:
            flow.bulk({"status": "open"}, query={key: 10}, user=ALICE)
        assert raised.value.errors == {f"query.{key}": "not allowed"}

    def test_a_query_the_listing_refuses_is_refused(self, flow: Taskflow) -> None:
        with pytest.raises(InvalidRequest):
            flow.bulk({"status": "open"}, query={"view": "nosuchview"}, user=ALICE)


class TestBadInput:
    def test_more_than_a_thousand_ids_is_refused(self, flow: Taskflow) -> None:
        ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(1001)]
        with pytest.raises(InvalidRequest) as raised:
            flow.bulk({"status": "open"}, ids=ids, user=ALICE)
        assert raised.value.errors == {"ids": "too many"}

    def test_a_thousand_ids_are_taken(self, flow: Taskflow) -> None:
        ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(1000)]
        answer = flow.bulk({"status": "open"}, ids=ids, dry_run=True, user=ALICE)
        assert answer["meta"]["count"] == 1000
        assert {row["status"] for row in answer["data"]} == {404}

    def test_a_malformed_id_refuses_the_whole_batch(self, flow: Taskflow) -> None:
        ids = make(flow, 1)
        with pytest.raises(InvalidRequest) as raised:
            flow.bulk({"status": "open"}, ids=[ids[0], "not-an-id"], user=ALICE)
        assert raised.value.errors == {"ids[1]": "invalid"}
        assert statuses(flow, ids) == ["new"]

    @pytest.mark.parametrize(
        "action",
        [
            {},
            {"status": "open", "assign": "bob"},
            {"close": True},
            {"status": "Not A Status"},
            {"comment": ""},
            {"assign": 7},
            "open",
            None,
        ],
    )
    def test_an_action_without_exactly_one_good_verb_is_refused(
        self, flow: Taskflow, action: Any
    ) -> None:
        ids = make(flow, 1)
        with pytest.raises(InvalidRequest):
            flow.bulk(action, ids=ids, user=ALICE)
        assert len(log_of(flow, ids[0])) == 1

    def test_ids_and_query_together_or_neither_are_refused(self, flow: Taskflow) -> None:
        with pytest.raises(InvalidRequest):
            flow.bulk({"status": "open"}, ids=[UNKNOWN], query={}, user=ALICE)
        with pytest.raises(InvalidRequest):
            flow.bulk({"status": "open"}, user=ALICE)

    def test_ids_as_a_string_are_refused(self, flow: Taskflow) -> None:
        with pytest.raises(InvalidRequest):
            flow.bulk({"status": "open"}, ids=UNKNOWN, user=ALICE)


class TestDryRun:
    def test_a_dry_run_changes_nothing_and_says_what_it_would_do(self, flow: Taskflow) -> None:
        flow.transition("new", "open", guard=lambda case, user: case["data"]["n"] != 1)
        calls: list[str] = []
        flow.hook("pre-status:*:*", lambda event: calls.append(event.event))
        ids = make(flow, 3)
        before = [flow.get(i) for i in ids]

        answer = flow.bulk({"status": "open"}, ids=[*ids, UNKNOWN], dry_run=True, user=BOB)

        assert [row["status"] for row in answer["data"]] == [200, 403, 200, 404]
        assert answer["meta"]["dryRun"] is True
        assert (answer["meta"]["succeeded"], answer["meta"]["failed"]) == (2, 2)
        assert [flow.get(i) for i in ids] == before
        assert calls == []
        assert flow.changes(limit=1000)["data"][-1]["entry"]["eventName"] == "create"


class TestIdempotency:
    def test_a_batch_sent_again_replays_its_answer_and_does_nothing(self, flow: Taskflow) -> None:
        calls: list[str] = []
        flow.hook("comment", lambda event: calls.append(event.id))
        ids = make(flow, 2)

        first = flow.bulk({"comment": "hi"}, ids=ids, user=BOB, idempotency_key="batch-1")
        again = flow.bulk({"comment": "hi"}, ids=ids, user=BOB, idempotency_key="batch-1")

        assert again == first
        assert len(calls) == 2
        for case_id in ids:
            assert len([e for e in log_of(flow, case_id) if e["eventName"] == "comment"]) == 1

    def test_the_key_with_another_batch_is_refused(self, flow: Taskflow) -> None:
        ids = make(flow, 1)
        flow.bulk({"comment": "hi"}, ids=ids, user=BOB, idempotency_key="batch-2")
        with pytest.raises(IdempotencyKeyReused):
            flow.bulk({"comment": "other"}, ids=ids, user=BOB, idempotency_key="batch-2")

    def test_a_batch_cut_short_and_sent_again_does_only_what_had_not_committed(
        self, flow: Taskflow
    ) -> None:
        ids = make(flow, 3)
        broken = {"on": True}

        @flow.hook("comment")
        def crash_on_the_last(event: HookEvent) -> None:
            if broken["on"] and event.id == ids[2]:
                # Not a failed case, a dead process: the batch never stores its answer.
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            flow.bulk({"comment": "hi"}, ids=ids, user=BOB, idempotency_key="batch-3")
        broken["on"] = False
        answer = flow.bulk({"comment": "hi"}, ids=ids, user=BOB, idempotency_key="batch-3")

        assert [row["status"] for row in answer["data"]] == [200, 200, 200]
        bulks = set()
        for case_id in ids:
            comments = [e for e in log_of(flow, case_id) if e["eventName"] == "comment"]
            assert len(comments) == 1
            bulks.add(comments[0]["event"]["meta"]["bulk"])
        assert bulks == {answer["meta"]["bulk"]}  # one batch in the log, sent twice
