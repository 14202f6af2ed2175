"""What no store can keep is refused as bad input, alike on every store, and changes nothing."""

import math
from typing import Any

import pytest

from taskflow_core import HookEvent, InvalidRequest, Taskflow
from taskflow_core.domain.validation import MAX_STATUS_LENGTH
from tests.contract.conftest import ALICE

UNSTORABLE = [
    {"text": "nul\x00byte"},
    {"nul\x00key": 1},
    {"deep": [{"x": "\ud800"}]},
    {"n": math.inf},
    {"n": math.nan},
]


@pytest.mark.parametrize("data", UNSTORABLE)
def test_unstorable_data_is_refused_on_create_and_update(
    flow: Taskflow, data: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequest):
        flow.create(data)
    case = flow.create({"ok": True})
    with pytest.raises(InvalidRequest):
        flow.update(case["id"], data)
    assert flow.get(case["id"]) == case
    assert flow.list()["meta"]["count"] == 1


def test_unstorable_comment_and_assignee_are_refused(flow: Taskflow) -> None:
    case = flow.create({})
    with pytest.raises(InvalidRequest):
        flow.comment(case["id"], "a\x00b", user=ALICE)
    with pytest.raises(InvalidRequest):
        flow.assign(case["id"], "x" * 256)
    with pytest.raises(InvalidRequest):
        flow.assign(case["id"], "\x00")
    assert flow.get(case["id"]) == case


def test_the_longest_statuses_fit_the_original_columns(flow: Taskflow) -> None:
    case = flow.create({})
    first, second = "a" * MAX_STATUS_LENGTH, "b" * MAX_STATUS_LENGTH
    flow.set_status(case["id"], first)
    result = flow.set_status(case["id"], second)
    assert result["activityLog"][0]["eventName"] == f"status:{first}:{second}"
    with pytest.raises(InvalidRequest):
        flow.set_status(case["id"], "c" * (MAX_STATUS_LENGTH + 1))


def test_a_hook_assigning_a_non_string_fails_the_request(flow: Taskflow) -> None:
    flow.hook("create", lambda e: e.assign(123))  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        flow.create({})
    assert flow.list()["meta"]["count"] == 0


@pytest.mark.parametrize(
    "query",
    [{"status": "a\x00"}, {"assignedTo": ["\ud800"]}, {"data": {"a": "\x00"}}, {"offset": 2**63}],
)
def test_unstorable_list_filters_are_refused(flow: Taskflow, query: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        flow.list(query)


class TestHookEdges:
    def test_changes_after_a_redirect_are_still_logged(self, flow: Taskflow) -> None:
        existing, other = flow.create({}), flow.create({})

        def redirect_then_touch(event: HookEvent) -> None:
            event.redirect(existing["id"])
            event.find(other["id"]).set_status("moved")

        flow.hook("pre-create", redirect_then_touch)
        assert flow.create({})["id"] == existing["id"]
        moved = flow.get(other["id"])
        assert moved["status"] == "moved"
        assert [e["eventName"] for e in moved["activityLog"]] == ["status:new:moved", "create"]

    def test_a_pre_update_hook_patching_the_case_is_not_overwritten(self, flow: Taskflow) -> None:
        stamped: list[str] = []

        def stamp_once(event: HookEvent) -> None:
            if not stamped:  # the patch is an update event of its own, with its own hooks
                stamped.append(event.id)
                event.find(event.id).patch({"stamped": True})

        flow.hook("pre-update", stamp_once)
        case = flow.create({"a": 1})
        result = flow.update(case["id"], {"b": 2})
        assert result["data"] == {"a": 1, "stamped": True, "b": 2}
        assert result["activityLog"][0]["event"]["meta"]["data"] == result["data"]

    def test_uuid_authors_are_recognised_whatever_the_case_of_their_id(
        self, flow: Taskflow
    ) -> None:
        upper = {"profile": {"id": "0F0E0D0C-0B0A-4000-8000-000000000001"}}
        lower = {"profile": {"id": upper["profile"]["id"].lower()}}
        case = flow.create({})
        comment_id = flow.comment(case["id"], "mine", user=lower)["activityLog"][0]["id"]
        edited = flow.update_comment(case["id"], comment_id, "still mine", user=upper)
        assert edited["activityLog"][0]["comment"] == "still mine"
