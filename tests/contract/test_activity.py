"""The activity log: one entry per event, its fields, the request id, and comment folding."""

import uuid
from datetime import datetime
from typing import Any

import pytest

from taskflow_core import Forbidden, InvalidRequest, NotFound, Taskflow
from tests.contract.conftest import ALICE, BOB


class User:
    """A user object rather than a mapping: the actor is ``user.profile.id``."""

    class Profile:
        id = "olga"

    profile = Profile()

    def __str__(self) -> str:
        return "User(olga)"


class TestEntries:
    def test_entry_has_the_wire_fields(self, flow: Taskflow) -> None:
        case = flow.create({"a": 1}, user=ALICE)
        entry = case["activityLog"][0]
        assert set(entry) == {
            "id",
            "caseId",
            "changedBy",
            "eventName",
            "event",
            "comment",
            "createdAt",
            "updatedAt",
        }
        assert entry["caseId"] == case["id"]
        assert entry["changedBy"] == "alice"
        assert set(entry["event"]) == {
            "id",
            "event",
            "meta",
            "status",
            "data",
            "assignedTo",
            "req",
        }
        assert entry["event"]["status"] == "new"
        assert entry["event"]["data"] == {"a": 1}
        assert entry["event"]["meta"]["user"] == ALICE

    def test_entries_of_one_request_share_req_and_strictly_increase(self, flow: Taskflow) -> None:
        flow.hook("create", lambda e: e.set_status("open"))
        flow.hook("status:new:open", lambda e: e.assign("bob"))
        flow.hook("assign", lambda e: e.patch({"done": True}))
        case = flow.create({})
        log = case["activityLog"]
        assert [e["eventName"] for e in log] == ["update", "assign", "status:new:open", "create"]
        assert len({e["event"]["req"] for e in log}) == 1
        times = [datetime.fromisoformat(e["createdAt"]) for e in reversed(log)]
        assert times == sorted(times)
        assert len(set(times)) == len(times)

    def test_separate_requests_get_separate_req_ids(self, flow: Taskflow) -> None:
        case = flow.create({})
        log = flow.set_status(case["id"], "open")["activityLog"]
        assert log[0]["event"]["req"] != log[1]["event"]["req"]

    def test_entry_records_state_as_it_stood_when_logged(self, flow: Taskflow) -> None:
        flow.hook("create", lambda e: e.set_status("open"))
        case = flow.create({})
        create_entry = case["activityLog"][-1]
        assert create_entry["event"]["status"] == "new"
        assert case["activityLog"][0]["event"]["status"] == "open"

    def test_user_object_gives_actor_and_is_logged_as_text(self, flow: Taskflow) -> None:
        case = flow.create({}, user=User())
        entry = case["activityLog"][0]
        assert entry["changedBy"] == "olga"
        assert entry["event"]["meta"]["user"] == "User(olga)"

    def test_no_user_logs_no_actor(self, flow: Taskflow) -> None:
        assert flow.create({})["activityLog"][0]["changedBy"] is None

    def test_actor_id_can_be_overridden(self, store: Any) -> None:
        flow = Taskflow(store, actor_id=lambda user: f"x-{user['name']}")
        assert flow.create({}, user=ALICE)["activityLog"][0]["changedBy"] == "x-Alice"

    def test_comment_comes_from_payload_meta_when_the_event_has_none(self, flow: Taskflow) -> None:
        case = flow.create({})
        result = flow.set_status(
            case["id"], "rejected", payload={"status": "rejected", "meta": {"comment": "why"}}
        )
        assert result["activityLog"][0]["comment"] == "why"
        assert result["activityLog"][0]["event"]["comment"] == "why"


def comment_on(flow: Taskflow, case_id: str, text: str, user: Any = ALICE) -> str:
    log = flow.comment(case_id, text, user=user)["activityLog"]
    assert log[0]["eventName"] == "comment"
    return str(log[0]["id"])


class TestComments:
    def test_comment_is_logged_with_its_text_and_author(self, flow: Taskflow) -> None:
        case = flow.create({})
        result = flow.comment(case["id"], "looks good", user=ALICE, payload={"comment": "x"})
        entry = result["activityLog"][0]
        assert (entry["eventName"], entry["comment"], entry["changedBy"]) == (
            "comment",
            "looks good",
            "alice",
        )
        assert entry["event"]["meta"]["comment"] == "looks good"
        assert result["updatedAt"] == case["updatedAt"]

    @pytest.mark.parametrize("text", ["", "   ", None, 5, ["x"]])
    def test_empty_or_non_string_comment_is_refused(self, flow: Taskflow, text: Any) -> None:
        case = flow.create({})
        with pytest.raises(InvalidRequest):
            flow.comment(case["id"], text, user=ALICE)
        assert flow.get(case["id"]) == case

    def test_edit_is_folded_into_the_comment(self, flow: Taskflow) -> None:
        case = flow.create({})
        comment_id = comment_on(flow, case["id"], "first")
        flow.update_comment(case["id"], comment_id, "second", user=ALICE)
        result = flow.update_comment(case["id"], comment_id, "third", user=ALICE)
        assert [e["eventName"] for e in result["activityLog"]] == ["comment", "create"]
        folded = result["activityLog"][0]
        assert folded["id"] == comment_id
        assert folded["comment"] == "third"
        assert folded["updatedAt"] == folded["createdAt"]

    def test_deleted_comment_shows_deleted_and_no_text(self, flow: Taskflow) -> None:
        case = flow.create({})
        comment_id = comment_on(flow, case["id"], "oops")
        flow.update_comment(case["id"], comment_id, "edited", user=ALICE)
        result = flow.delete_comment(case["id"], comment_id, user=ALICE)
        folded = result["activityLog"][0]
        assert folded["deleted"] is True
        assert folded["comment"] is None
        assert [e["eventName"] for e in result["activityLog"]] == ["comment", "create"]

    def test_hooks_see_update_and_delete_comment_events(self, flow: Taskflow) -> None:
        metas: list[dict[str, Any]] = []
        flow.hook("update-comment", lambda e: metas.append(e.meta))
        flow.hook("delete-comment", lambda e: metas.append(e.meta))
        case = flow.create({})
        comment_id = comment_on(flow, case["id"], "a")
        flow.update_comment(case["id"], comment_id, "b", user=ALICE, payload={"comment": "b"})
        flow.delete_comment(case["id"], comment_id, user=ALICE)
        assert metas == [
            {"id": comment_id, "user": ALICE, "comment": "b", "payload": {"comment": "b"}},
            {"id": comment_id, "user": ALICE},
        ]

    @pytest.mark.parametrize("user", [BOB, None])
    def test_only_the_author_can_edit_or_delete(self, flow: Taskflow, user: Any) -> None:
        case = flow.create({})
        comment_id = comment_on(flow, case["id"], "mine")
        before = flow.get(case["id"])
        with pytest.raises(Forbidden):
            flow.update_comment(case["id"], comment_id, "theirs", user=user)
        with pytest.raises(Forbidden):
            flow.delete_comment(case["id"], comment_id, user=user)
        assert flow.get(case["id"]) == before

    def test_unknown_malformed_or_deleted_comment_is_not_found(self, flow: Taskflow) -> None:
        case = flow.create({})
        comment_id = comment_on(flow, case["id"], "x")
        create_entry = flow.get(case["id"])["activityLog"][-1]["id"]
        for missing in [str(uuid.uuid4()), "nope", create_entry]:
            with pytest.raises(NotFound):
                flow.update_comment(case["id"], missing, "y", user=ALICE)
        flow.delete_comment(case["id"], comment_id, user=ALICE)
        with pytest.raises(NotFound):
            flow.update_comment(case["id"], comment_id, "y", user=ALICE)
        with pytest.raises(NotFound):
            flow.delete_comment(case["id"], comment_id, user=ALICE)

    def test_comment_of_another_case_is_not_found(self, flow: Taskflow) -> None:
        first, second = flow.create({}), flow.create({})
        comment_id = comment_on(flow, first["id"], "x")
        with pytest.raises(NotFound):
            flow.update_comment(second["id"], comment_id, "y", user=ALICE)


class TestDecorators:
    def test_decorators_apply_in_order_with_the_user(self, flow: Taskflow) -> None:
        flow.decorate(lambda case, user: {**case, "seenBy": user and user["name"]})
        flow.decorate(lambda case, user: {**case, "order": [case["seenBy"]]})
        case = flow.create({}, user=ALICE)
        assert (case["seenBy"], case["order"]) == ("Alice", ["Alice"])
        assert flow.get(case["id"], user=BOB)["seenBy"] == "Bob"
        assert flow.list(user=ALICE)["data"][0]["seenBy"] == "Alice"

    def test_single_only_decorators_are_skipped_for_lists(self, flow: Taskflow) -> None:
        flow.decorate(lambda case, user: {**case, "heavy": True}, list=False)
        case = flow.create({})
        assert flow.get(case["id"])["heavy"] is True
        assert "heavy" not in flow.list()["data"][0]

    def test_a_failing_decorator_fails_the_request_and_rolls_it_back(self, flow: Taskflow) -> None:
        case = flow.create({})
        armed = {"on": True}

        def fragile(case: dict[str, Any], user: Any) -> dict[str, Any]:
            if armed["on"]:
                raise LookupError("decorator broke")
            return case

        flow.decorate(fragile)
        with pytest.raises(LookupError):
            flow.set_status(case["id"], "open")
        armed["on"] = False
        assert flow.get(case["id"])["status"] == "new"

    @pytest.mark.parametrize("bad", [{1, 2}, "\ud800", float("nan"), object()])
    def test_a_decorator_answer_that_cannot_be_json_fails_before_commit(
        self, flow: Taskflow, bad: Any
    ) -> None:
        settled: list[str] = []
        flow.hook("create", lambda e: e.on_settled(lambda: settled.append("ran")))
        flow.decorate(lambda case, user: {**case, "extra": bad})
        with pytest.raises((TypeError, ValueError)):
            flow.create({})
        assert flow.list()["meta"]["count"] == 0
        assert settled == []


def test_event_names_are_plain_strings_as_json_would_give_them(flow: Taskflow) -> None:
    case = flow.create({"a": 1})
    flow.set_status(case["id"], "open")
    flow.comment(case["id"], "hi", user={"profile": {"id": "a"}})

    log = flow.get(case["id"])["activityLog"]

    # The enum is a str subclass that prints as <Event.COMMENT: 'comment'>: not what a
    # caller comparing with type() or printing the log expects.
    assert {type(e["eventName"]) for e in log} == {str}
    assert {type(e["event"]["event"]) for e in log} == {str}
    listed = flow.changes()["data"]
    assert {type(item["entry"]["eventName"]) for item in listed} <= {str}
