"""Creating, reading and changing cases through the service, on every store."""

import time
import uuid
from datetime import datetime

import pytest

from taskflow_core import InvalidRequest, NotFound, Taskflow
from tests.contract.conftest import ALICE


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


class TestCreate:
    def test_new_case_has_status_new_its_data_and_no_assignee(self, flow: Taskflow) -> None:
        case = flow.create({"subject": "licence", "nested": {"a": [1, 2]}}, user=ALICE)
        assert uuid.UUID(case["id"])
        assert case["status"] == "new"
        assert case["data"] == {"subject": "licence", "nested": {"a": [1, 2]}}
        assert case["assignedTo"] is None
        assert parse(case["createdAt"]).utcoffset() is not None
        assert case["createdAt"] == case["updatedAt"]
        assert [e["eventName"] for e in case["activityLog"]] == ["create"]

    def test_created_case_reads_back_the_same(self, flow: Taskflow) -> None:
        created = flow.create({"x": 1})
        assert flow.get(created["id"]) == created

    @pytest.mark.parametrize("data", [None, [], "text", 3])
    def test_data_that_is_not_an_object_is_refused(self, flow: Taskflow, data: object) -> None:
        with pytest.raises(InvalidRequest):
            flow.create(data)  # type: ignore[arg-type]
        assert flow.list()["meta"]["count"] == 0


class TestGet:
    @pytest.mark.parametrize(
        "case_id", ["nope", "", "1234", "00000000-0000-0000-0000-00000000000g"]
    )
    def test_malformed_id_is_not_found(self, flow: Taskflow, case_id: str) -> None:
        with pytest.raises(NotFound):
            flow.get(case_id)

    def test_unknown_id_is_not_found(self, flow: Taskflow) -> None:
        with pytest.raises(NotFound):
            flow.get(str(uuid.uuid4()))

    def test_uppercase_id_finds_the_case(self, flow: Taskflow) -> None:
        case = flow.create({})
        assert flow.get(case["id"].upper())["id"] == case["id"]


class TestUpdate:
    def test_update_deep_merges_objects_and_arrays_and_replaces_scalars(
        self, flow: Taskflow
    ) -> None:
        case = flow.create({"a": {"b": 1, "c": 2}, "list": [1, 2], "s": "x", "keep": True})
        updated = flow.update(case["id"], {"a": {"c": 3, "d": 4}, "list": [3], "s": None})
        assert updated["data"] == {
            "a": {"b": 1, "c": 3, "d": 4},
            "list": [3, 2],
            "s": None,
            "keep": True,
        }

    def test_update_moves_updated_at_and_logs_an_update(self, flow: Taskflow) -> None:
        case = flow.create({})
        time.sleep(0.002)  # timestamps are written in milliseconds
        updated = flow.update(case["id"], {"x": 1}, user=ALICE)
        assert parse(updated["updatedAt"]) > parse(case["updatedAt"])
        entry = updated["activityLog"][0]
        assert entry["eventName"] == "update"
        assert entry["event"]["meta"]["data"] == {"x": 1}

    def test_preserve_updated_at_leaves_it_alone(self, flow: Taskflow) -> None:
        case = flow.create({})
        updated = flow.update(case["id"], {"x": 1}, preserve_updated_at=True)
        assert updated["updatedAt"] == case["updatedAt"]
        assert updated["data"] == {"x": 1}

    def test_update_of_unknown_case_is_not_found(self, flow: Taskflow) -> None:
        with pytest.raises(NotFound):
            flow.update(str(uuid.uuid4()), {"x": 1})

    def test_update_with_non_object_is_refused(self, flow: Taskflow) -> None:
        case = flow.create({"x": 1})
        with pytest.raises(InvalidRequest):
            flow.update(case["id"], ["x"])  # type: ignore[arg-type]
        assert flow.get(case["id"])["data"] == {"x": 1}


class TestStatus:
    def test_status_change_is_logged_with_previous_and_next(self, flow: Taskflow) -> None:
        case = flow.create({})
        time.sleep(0.002)  # timestamps are written in milliseconds
        changed = flow.set_status(case["id"], "in-review", user=ALICE)
        assert changed["status"] == "in-review"
        entry = changed["activityLog"][0]
        assert entry["eventName"] == "status:new:in-review"
        assert entry["event"]["meta"]["previous"] == "new"
        assert entry["event"]["meta"]["next"] == "in-review"
        assert parse(changed["updatedAt"]) > parse(case["updatedAt"])

    def test_same_status_is_still_an_event(self, flow: Taskflow) -> None:
        case = flow.create({})
        changed = flow.set_status(case["id"], "new")
        assert changed["activityLog"][0]["eventName"] == "status:new:new"

    @pytest.mark.parametrize("status", ["", "Open", "open now", "open:1", "x1", None, 3])
    def test_malformed_status_is_refused_and_changes_nothing(
        self, flow: Taskflow, status: object
    ) -> None:
        case = flow.create({})
        with pytest.raises(InvalidRequest):
            flow.set_status(case["id"], status)  # type: ignore[arg-type]
        assert flow.get(case["id"]) == case


class TestAssign:
    def test_assign_sets_assignee_without_touching_updated_at(self, flow: Taskflow) -> None:
        case = flow.create({})
        assigned = flow.assign(case["id"], "bob", user=ALICE)
        assert assigned["assignedTo"] == "bob"
        assert assigned["updatedAt"] == case["updatedAt"]
        assert assigned["activityLog"][0]["eventName"] == "assign"
        assert assigned["activityLog"][0]["event"]["meta"]["assignedTo"] == "bob"

    def test_assigning_the_current_assignee_again_is_no_event(self, flow: Taskflow) -> None:
        case = flow.create({})
        flow.assign(case["id"], "bob")
        again = flow.assign(case["id"], "bob")
        assert [e["eventName"] for e in again["activityLog"]] == ["assign", "create"]

    def test_unassign_with_none(self, flow: Taskflow) -> None:
        case = flow.create({})
        flow.assign(case["id"], "bob")
        assert flow.assign(case["id"], None)["assignedTo"] is None

    def test_non_string_assignee_is_refused(self, flow: Taskflow) -> None:
        case = flow.create({})
        with pytest.raises(InvalidRequest):
            flow.assign(case["id"], 42)  # type: ignore[arg-type]
