"""One behaviour suite, run on the in-process flow and on ``Client`` against ``taskflow
serve``: the same calls give the same answers and raise the same errors, so the two cannot
drift apart (SPEC §19)."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from taskflow_client import Client
from taskflow_core import (
    BusinessDays,
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
    Taskflow,
)

Flow = Any  # Taskflow | Client: the suite calls only what both have
MISSING = "00000000-0000-4000-8000-000000000000"


class TestCreatingAndReading:
    def test_a_new_case_is_new_at_version_one_with_its_data(self, flow_or_client: Flow) -> None:
        case = flow_or_client.create({"subject": "dog licence", "n": 2**60})
        assert case["status"] == "new"
        assert case["version"] == 1
        assert case["data"] == {"subject": "dog licence", "n": 2**60}
        assert case["nextStatuses"] == ["submitted", "withdrawn"]
        read = flow_or_client.get(case["id"])
        assert read["id"] == case["id"]
        assert [e["eventName"] for e in read["activityLog"]] == ["create"]

    def test_read_gives_the_version_beside_the_case(self, flow_or_client: Flow) -> None:
        case = flow_or_client.create({})
        outcome = flow_or_client.read(case["id"])
        assert outcome.version == 1
        assert outcome.case["id"] == case["id"]

    @pytest.mark.parametrize("case_id", [MISSING, "not-a-uuid", "../x"])
    def test_an_unknown_or_malformed_id_is_not_found(
        self, flow_or_client: Flow, case_id: str
    ) -> None:
        with pytest.raises(NotFound):
            flow_or_client.get(case_id)
        with pytest.raises(NotFound):
            flow_or_client.set_status(case_id, "submitted")

    def test_a_create_that_is_no_object_is_refused(self, flow_or_client: Flow) -> None:
        with pytest.raises(InvalidRequest):
            flow_or_client.create(["not", "an", "object"])


class TestChanging:
    def test_status_follows_the_declared_workflow(self, flow_or_client: Flow) -> None:
        case = flow_or_client.create({})
        moved = flow_or_client.set_status(case["id"], "submitted")
        assert moved["status"] == "submitted"
        assert moved["version"] == 2
        assert moved["nextStatuses"] == ["approved", "withdrawn"]
        assert flow_or_client.next_statuses(case["id"]) == ["approved", "withdrawn"]

    def test_an_undeclared_change_is_a_conflict_naming_what_is_allowed(
        self, flow_or_client: Flow
    ) -> None:
        case = flow_or_client.create({})
        with pytest.raises(Conflict) as refused:
            flow_or_client.set_status(case["id"], "approved")
        assert refused.value.errors == {"status": ["submitted", "withdrawn"]}
        assert flow_or_client.get(case["id"])["status"] == "new"

    def test_a_stale_expected_version_fails_and_changes_nothing(self, flow_or_client: Flow) -> None:
        case = flow_or_client.create({"a": 1})
        flow_or_client.update(case["id"], {"a": 2}, expected_version=1)
        with pytest.raises(PreconditionFailed):
            flow_or_client.update(case["id"], {"a": 3}, expected_version=1)
        assert flow_or_client.get(case["id"])["data"] == {"a": 2}

    def test_update_merges_deeply_and_merge_patch_deletes_with_null(
        self, flow_or_client: Flow
    ) -> None:
        case = flow_or_client.create({"address": {"town": "York", "street": "Low"}, "x": 1})
        merged = flow_or_client.update(case["id"], {"address": {"town": "Leeds"}})
        assert merged["data"] == {"address": {"town": "Leeds", "street": "Low"}, "x": 1}
        patched = flow_or_client.merge_patch(case["id"], {"x": None, "tags": ["a"]})
        assert patched["data"] == {"address": {"town": "Leeds", "street": "Low"}, "tags": ["a"]}

    def test_update_with_payload_logs_its_comment(self, flow_or_client: Flow) -> None:
        case = flow_or_client.create({})
        updated = flow_or_client.update(case["id"], None, payload={"meta": {"comment": "seen"}})
        assert updated["activityLog"][0]["comment"] == "seen"

    def test_preserve_updated_at_keeps_the_time(self, flow_or_client: Flow) -> None:
        case = flow_or_client.create({})
        kept = flow_or_client.update(case["id"], {"b": 1}, preserve_updated_at=True)
        assert kept["updatedAt"] == case["updatedAt"]

    def test_assign_and_unassign(self, flow_or_client: Flow) -> None:
        case = flow_or_client.create({})
        assert flow_or_client.assign(case["id"], "ada")["assignedTo"] == "ada"
        assert flow_or_client.assign(case["id"], None)["assignedTo"] is None

    def test_an_anonymous_caller_may_not_edit_a_comment(self, flow_or_client: Flow) -> None:
        case = flow_or_client.create({})
        commented = flow_or_client.comment(case["id"], "first look")
        entry = commented["activityLog"][0]
        assert (entry["eventName"], entry["comment"]) == ("comment", "first look")
        with pytest.raises(Forbidden):
            flow_or_client.update_comment(case["id"], entry["id"], "second look")
        with pytest.raises(Forbidden):
            flow_or_client.delete_comment(case["id"], entry["id"])

    def test_an_empty_comment_is_refused(self, flow_or_client: Flow) -> None:
        case = flow_or_client.create({})
        with pytest.raises(InvalidRequest):
            flow_or_client.comment(case["id"], "")


class TestIdempotencyKeys:
    def test_the_same_call_under_one_key_is_done_once(self, flow_or_client: Flow, tag: str) -> None:
        first = flow_or_client.create({"tag": tag}, idempotency_key=f"{tag}-k")
        again = flow_or_client.create({"tag": tag}, idempotency_key=f"{tag}-k")
        assert again == first
        assert flow_or_client.list({"data": {"tag": tag}})["meta"]["count"] == 1

    def test_a_key_reused_for_another_call_is_refused(self, flow_or_client: Flow, tag: str) -> None:
        flow_or_client.create({"tag": tag}, idempotency_key=f"{tag}-k")
        with pytest.raises(IdempotencyKeyReused):
            flow_or_client.create({"tag": tag, "other": True}, idempotency_key=f"{tag}-k")


class TestFinding:
    def test_list_filters_sorts_and_pages(self, flow_or_client: Flow, tag: str) -> None:
        ids = [flow_or_client.create({"tag": tag, "n": str(n)})["id"] for n in range(3)]
        flow_or_client.set_status(ids[1], "submitted")
        page = flow_or_client.list(
            {"data": {"tag": tag}, "sort": {"column": "createdAt", "ascending": False}, "limit": 2}
        )
        assert page["meta"]["count"] == 3
        assert [c["id"] for c in page["data"]] == [ids[2], ids[1]]
        assert "activityLog" not in page["data"][0]
        submitted = flow_or_client.list({"data": {"tag": tag}, "status": ["submitted"]})
        assert [c["id"] for c in submitted["data"]] == [ids[1]]
        rest = flow_or_client.list({"data": {"tag": tag}, "exclude": {"status": ["submitted"]}})
        assert [c["id"] for c in rest["data"]] == [ids[0], ids[2]]

    def test_list_by_search_assignee_and_unassigned(self, flow_or_client: Flow, tag: str) -> None:
        one = flow_or_client.create({"tag": tag, "title": "Licence for Rex"})
        two = flow_or_client.create({"tag": tag})
        flow_or_client.assign(two["id"], "bea")
        found = flow_or_client.list({"data": {"tag": tag}, "q": "lic rex"})
        assert [c["id"] for c in found["data"]] == [one["id"]]
        theirs = flow_or_client.list({"data": {"tag": tag}, "assignedTo": ["bea"]})
        assert [c["id"] for c in theirs["data"]] == [two["id"]]
        nobody = flow_or_client.list({"data": {"tag": tag}, "unassigned": True})
        assert [c["id"] for c in nobody["data"]] == [one["id"]]

    def test_a_bad_listing_is_invalid(self, flow_or_client: Flow) -> None:
        with pytest.raises(InvalidRequest):
            flow_or_client.list({"limit": 5000})
        with pytest.raises(InvalidRequest):
            flow_or_client.list({"sort": {"column": "colour"}})
        with pytest.raises(InvalidRequest):
            flow_or_client.list({"view": "nonesuch"})

    def test_counts_by_status(self, flow_or_client: Flow, tag: str) -> None:
        for _ in range(2):
            flow_or_client.create({"tag": tag})
        flow_or_client.set_status(flow_or_client.create({"tag": tag})["id"], "submitted")
        counts = flow_or_client.counts("status", {"data": {"tag": tag}})
        assert counts == {
            "data": [{"value": "new", "count": 2}, {"value": "submitted", "count": 1}],
            "meta": {"count": 3},
        }
        with pytest.raises(InvalidRequest):
            flow_or_client.counts("colour")

    def test_views_and_the_workflow_are_the_declared_ones(self, flow_or_client: Flow) -> None:
        views = flow_or_client.views()
        assert [(v["name"], v["title"]) for v in views] == [
            ("waiting", "Waiting"),
            ("unassigned", "unassigned"),
        ]
        assert all(isinstance(v["count"], int) for v in views)
        assert flow_or_client.workflow() == {
            "statuses": ["approved", "new", "submitted", "withdrawn"],
            "transitions": [
                {"from": "new", "to": "submitted", "guarded": False},
                {"from": "submitted", "to": "approved", "guarded": False},
                {"from": "*", "to": "withdrawn", "guarded": False},
            ],
        }


class TestDeadlines:
    def submitted(self, flow: Flow) -> dict[str, Any]:
        case = flow.create({})
        return flow.set_status(case["id"], "submitted")  # type: ignore[no-any-return]

    def test_entering_a_start_status_starts_the_clock_and_its_timer(
        self, flow_or_client: Flow
    ) -> None:
        case = self.submitted(flow_or_client)
        (deadline,) = case["deadlines"]
        assert (deadline["name"], deadline["state"]) == ("decision", "running")
        timers = flow_or_client.timers(case["id"])
        assert [t["name"] for t in timers] == ["deadline:decision:passed"]

    def test_extend_remove_and_reinstate(self, flow_or_client: Flow) -> None:
        case = self.submitted(flow_or_client)
        due = case["deadlines"][0]["due"]
        later = flow_or_client.extend_deadline(
            case["id"], "decision", by=BusinessDays(2), reason="waiting for the vet"
        )
        assert later["deadlines"][0]["due"] > due
        until = datetime.now(UTC) + timedelta(days=60)
        moved = flow_or_client.extend_deadline(
            case["id"], "decision", until=until, reason="holidays"
        )
        assert moved["deadlines"][0]["due"] > later["deadlines"][0]["due"]
        removed = flow_or_client.remove_deadline(case["id"], "decision", reason="not needed")
        assert removed["deadlines"][0]["state"] == "removed"
        back = flow_or_client.reinstate_deadline(case["id"], "decision", reason="needed")
        assert back["deadlines"][0]["state"] == "running"
        with pytest.raises(Conflict):
            flow_or_client.reinstate_deadline(case["id"], "decision", reason="again")

    def test_an_unknown_deadline_or_a_missing_reason_is_refused(self, flow_or_client: Flow) -> None:
        case = self.submitted(flow_or_client)
        with pytest.raises(NotFound):
            flow_or_client.remove_deadline(case["id"], "nonesuch", reason="x")
        with pytest.raises(InvalidRequest):
            flow_or_client.remove_deadline(case["id"], "decision", reason="")


class TestManyCases:
    def test_bulk_changes_each_case_and_a_dry_run_changes_nothing(
        self, flow_or_client: Flow, tag: str
    ) -> None:
        ids = [flow_or_client.create({"tag": tag})["id"] for _ in range(2)]
        dry = flow_or_client.bulk({"status": "submitted"}, ids=ids, dry_run=True)
        assert dry["meta"]["count"] == 2
        assert (
            flow_or_client.list({"data": {"tag": tag}, "status": ["submitted"]})["meta"]["count"]
            == 0
        )
        done = flow_or_client.bulk({"status": "submitted"}, query={"data": {"tag": tag}})
        assert (done["meta"]["succeeded"], done["meta"]["failed"]) == (2, 0)
        assert sorted(item["id"] for item in done["data"]) == sorted(ids)

    def test_export_gives_every_matching_case(self, flow_or_client: Flow, tag: str) -> None:
        ids = [flow_or_client.create({"tag": tag})["id"] for _ in range(3)]
        exported = list(flow_or_client.export({"data": {"tag": tag}}))
        assert sorted(case["id"] for case in exported) == sorted(ids)


# Taskflow's public methods with no route, so no Client method: configuration (done where
# the flow is built), work beside requests (relays, timers, pruning), and Python seams.
NOT_OVER_HTTP = {
    "hook", "decorate", "transition", "deadline", "view", "webhook", "webhooks",
    "unsubscribe", "seal_webhook_secrets", "migrate", "listing", "deliveries",
    "deliver_pending", "run_due_timers", "prune", "execute", "redactor", "clock", "store",
    "access", "observe", "trace", "title", "title_of", "actor_of",
    # Seams of the HTTP adapter itself: a checked bulk request, export as the text it sends,
    # a case as the bytes it is sent as (read_body; the client's get reads them), the pages'
    # signed-out sessions.
    "run_bulk", "export_json", "read_body", "revoke_session", "session_revoked",
}  # fmt: skip
# Python-only arguments: who acts is who the token is, and the payload is the body sent.
PYTHON_ONLY = {"user", "payload"}


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_")
    }


def test_the_client_has_every_operation_of_the_flow_with_the_same_arguments() -> None:
    flow, client = _public(Taskflow), _public(Client)
    operations = set(flow) - NOT_OVER_HTTP
    assert operations - set(client) == set()
    for name in operations - {"changes"}:  # the client follows the feed (changes_page: a page)
        expected = [p for p in flow[name].parameters if p not in PYTHON_ONLY]
        # Every write of the client takes a key, also where the flow's takes none.
        extra = PYTHON_ONLY | ({"idempotency_key"} - set(expected))
        given = [p for p in client[name].parameters if p not in extra]
        assert given == expected, name
    page = [p for p in flow["changes"].parameters if p not in PYTHON_ONLY]
    assert list(client["changes_page"].parameters) == page
