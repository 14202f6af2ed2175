"""What a service switching from the original Node.js taskflow sees the same, from Python."""

from __future__ import annotations

from typing import Any

from taskflow_core import HookEvent, Taskflow
from tests.contract.conftest import ALICE


def event_names(case: dict[str, Any]) -> list[str]:
    return [entry["eventName"] for entry in case["activityLog"]]


class TestUpdateMergesAsLodash:
    def test_arrays_merge_index_by_index_and_objects_inside_them_merge(
        self, flow: Taskflow
    ) -> None:
        case = flow.create({"a": 1, "t": ["a", "b"], "o": {"x": 1, "y": [{"p": 1, "q": 2}]}})
        changes = {"a": None, "t": [], "o": {"y": [{"p": 9}], "z": 2}}
        updated = flow.update(case["id"], changes)
        assert updated["data"] == {
            "a": None,
            "t": ["a", "b"],
            "o": {"x": 1, "y": [{"p": 9, "q": 2}], "z": 2},
        }

    def test_a_shorter_array_changes_only_the_first_elements(self, flow: Taskflow) -> None:
        case = flow.create({"t": [1, 2, 3]})
        assert flow.update(case["id"], {"t": [9]})["data"] == {"t": [9, 2, 3]}

    def test_an_object_replaces_a_string(self, flow: Taskflow) -> None:
        case = flow.create({"t": "s"})
        assert flow.update(case["id"], {"t": {"a": 1}})["data"] == {"t": {"a": 1}}


class TestActivityEntries:
    def test_an_entry_without_a_comment_has_no_comment_key_in_its_event(
        self, flow: Taskflow
    ) -> None:
        case = flow.create({"a": 1})
        entry = case["activityLog"][0]
        assert "comment" not in entry["event"]
        assert entry["comment"] is None

    def test_an_entry_with_a_comment_keeps_it_in_its_event(self, flow: Taskflow) -> None:
        case = flow.create({})
        case = flow.comment(case["id"], "hello", user=ALICE)
        assert case["activityLog"][0]["event"]["comment"] == "hello"


class TestUpdateWithoutData:
    def test_an_update_with_no_data_changes_nothing_and_is_logged_with_its_note(
        self, flow: Taskflow
    ) -> None:
        case = flow.create({"a": 1})
        payload = {"meta": {"comment": "called the applicant"}}
        updated = flow.update(case["id"], None, user=ALICE, payload=payload)
        assert updated["data"] == {"a": 1}
        assert event_names(updated) == ["update", "create"]
        assert updated["activityLog"][0]["comment"] == "called the applicant"

    def test_the_update_hooks_run_for_an_update_with_no_data(self, flow: Taskflow) -> None:
        seen: list[dict[str, Any]] = []
        flow.hook("update", lambda event: seen.append(event.meta["data"]))
        case = flow.create({"a": 1})
        flow.update(case["id"], None)
        assert seen == [{"a": 1}]


class TestAssignFromHooks:
    def test_a_hooks_assign_of_the_current_assignee_is_an_event(self, flow: Taskflow) -> None:
        case = flow.create({})
        flow.assign(case["id"], "bob")

        def reassign(event: HookEvent) -> None:
            event.assign(event.assigned_to)

        flow.hook("comment", reassign)
        case = flow.comment(case["id"], "again", user=ALICE)
        assert event_names(case) == ["assign", "comment", "assign", "create"]
        assert case["assignedTo"] == "bob"

    def test_assigning_the_current_assignee_through_the_api_is_no_event(
        self, flow: Taskflow
    ) -> None:
        case = flow.create({})
        flow.assign(case["id"], "bob")
        case = flow.assign(case["id"], "bob")
        assert event_names(case) == ["assign", "create"]


class TestEditedComments:
    def test_an_edited_comment_keeps_its_own_updated_at(self, flow: Taskflow) -> None:
        case = flow.create({})
        case = flow.comment(case["id"], "first", user=ALICE)
        written = case["activityLog"][0]
        case = flow.update_comment(case["id"], written["id"], "second", user=ALICE)
        folded = case["activityLog"][0]
        assert folded["comment"] == "second"
        assert folded["updatedAt"] == written["updatedAt"]


class TestMergePatch:
    def test_null_deletes_a_nested_key_and_arrays_replace(self, flow: Taskflow) -> None:
        case = flow.create({"a": {"b": 1, "c": 2}, "t": [1, 2, 3], "keep": True})
        patched = flow.merge_patch(case["id"], {"a": {"b": None}, "t": [9], "new": "x"})
        assert patched["data"] == {"a": {"c": 2}, "t": [9], "keep": True, "new": "x"}

    def test_a_patch_is_an_update_event_with_hooks(self, flow: Taskflow) -> None:
        seen: list[tuple[str, Any]] = []
        flow.hook("pre-update", lambda event: seen.append(("pre", event.meta["data"])))
        flow.hook("update", lambda event: seen.append(("post", event.data)))
        case = flow.create({"a": 1, "b": 2})
        patched = flow.merge_patch(case["id"], {"b": None}, user=ALICE)
        assert seen == [("pre", {"a": 1}), ("post", {"a": 1})]
        assert event_names(patched) == ["update", "create"]
        assert patched["activityLog"][0]["changedBy"] == "alice"
