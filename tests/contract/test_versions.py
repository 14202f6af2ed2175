"""Versions: every change moves a case's version up, and a caller may require the version it
last saw (``expected_version``), checked under the row lock before any hook runs."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from taskflow_core import (
    HookEvent,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
    Taskflow,
)
from taskflow_core.domain.model import new_id
from tests.contract.conftest import ALICE, BOB, OPERATIONS, hook_calls


@pytest.fixture
def case(flow: Taskflow) -> dict[str, Any]:
    """A case with one comment by alice, so that every operation has something to act on."""
    made = flow.create({"name": "x"}, user=ALICE)
    return flow.comment(made["id"], "hi", user=ALICE)


class TestVersions:
    def test_a_new_case_is_at_version_1_in_its_answer_reads_and_listing(
        self, flow: Taskflow
    ) -> None:
        made = flow.create({"a": 1})
        assert made["version"] == 1
        assert flow.get(made["id"])["version"] == 1
        assert [c["version"] for c in flow.list()["data"]] == [1]

    def test_every_kind_of_change_moves_the_version_up(
        self, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        versions = [flow.create({"name": "y"})["version"], case["version"]]
        for operation in OPERATIONS.values():
            answer = operation(flow, flow.get(case["id"]))
            assert answer["version"] == flow.get(case["id"])["version"]
            versions.append(answer["version"])
        assert all(a < b for a, b in itertools.pairwise(versions)), versions

    def test_a_comment_alone_moves_the_version_up(
        self, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        before = flow.get(case["id"])
        after = flow.comment(case["id"], "one more", user=BOB)
        assert after["version"] > before["version"]
        assert (after["status"], after["data"]) == (before["status"], before["data"])

    def test_a_hook_cascade_leaves_the_case_at_a_higher_version(
        self, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        flow.hook("status:*:one", lambda event: event.set_status("two"))
        flow.hook("status:one:two", lambda event: event.patch({"cascaded": True}))
        before = flow.get(case["id"])["version"]

        after = flow.set_status(case["id"], "one")
        again = flow.set_status(case["id"], "one")

        assert after["status"] == "two"
        assert after["data"]["cascaded"] is True
        assert before < after["version"] < again["version"]
        assert flow.get(case["id"])["version"] == again["version"]

    def test_a_case_whose_create_hooks_change_it_is_still_at_version_1(
        self, flow: Taskflow
    ) -> None:
        flow.hook("create", lambda event: event.set_status("open"))
        flow.hook("status:new:open", lambda event: event.patch({"opened": True}))
        made = flow.create({})
        assert (made["status"], made["version"]) == ("open", 1)

    def test_a_hook_changing_another_case_moves_that_cases_version_up(self, flow: Taskflow) -> None:
        other = flow.create({"n": 1})

        def touch_other(event: HookEvent) -> None:
            event.find(other["id"]).patch({"touched": True})

        flow.hook("comment", touch_other)
        commented = flow.create({})
        flow.comment(commented["id"], "go")

        assert flow.get(other["id"])["version"] > other["version"]

    def test_assigning_the_current_assignee_again_changes_nothing_not_even_the_version(
        self, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        assigned = flow.assign(case["id"], "bob")
        assert flow.assign(case["id"], "bob")["version"] == assigned["version"]

    def test_a_failed_request_leaves_the_version_as_it_was(
        self, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        before = flow.get(case["id"])["version"]

        def refuse(event: HookEvent) -> None:
            raise InvalidRequest("no")

        flow.hook("comment", refuse)
        with pytest.raises(InvalidRequest):
            flow.comment(case["id"], "refused")
        assert flow.get(case["id"])["version"] == before


class TestExpectedVersion:
    @pytest.mark.parametrize("operation", list(OPERATIONS))
    def test_a_stale_version_is_refused_before_any_hook_and_nothing_changes(
        self, flow: Taskflow, case: dict[str, Any], operation: str
    ) -> None:
        current = flow.get(case["id"])
        calls = hook_calls(flow)

        with pytest.raises(PreconditionFailed, match="version"):
            OPERATIONS[operation](flow, current, expected_version=current["version"] - 1)

        assert calls == []
        assert flow.get(case["id"]) == current
        # The same request at the current version does run the hooks counted above.
        OPERATIONS[operation](flow, current, expected_version=current["version"])
        assert calls

    @pytest.mark.parametrize("operation", list(OPERATIONS))
    def test_the_current_version_lets_the_change_through(
        self, flow: Taskflow, case: dict[str, Any], operation: str
    ) -> None:
        current = flow.get(case["id"])
        answer = OPERATIONS[operation](flow, current, expected_version=current["version"])
        assert answer["version"] > current["version"]

    def test_of_two_writers_who_read_the_same_version_the_second_is_refused(
        self, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        seen = flow.get(case["id"])["version"]
        flow.update(case["id"], {"by": "first"}, expected_version=seen)
        with pytest.raises(PreconditionFailed):
            flow.update(case["id"], {"by": "second"}, expected_version=seen)
        assert flow.get(case["id"])["data"]["by"] == "first"

    def test_a_missing_case_is_not_found_whatever_the_version(self, flow: Taskflow) -> None:
        with pytest.raises(NotFound):
            flow.set_status(new_id(), "open", expected_version=1)

    @pytest.mark.parametrize("version", ["1", 1.0, True])
    def test_an_expected_version_that_is_no_integer_is_invalid(
        self, flow: Taskflow, case: dict[str, Any], version: Any
    ) -> None:
        before = flow.get(case["id"])
        with pytest.raises(InvalidRequest, match="expected_version"):
            flow.set_status(case["id"], "open", expected_version=version)
        assert flow.get(case["id"]) == before
