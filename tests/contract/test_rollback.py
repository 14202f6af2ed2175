"""Whatever fails, the whole request rolls back: nothing of it remains in the store."""

from collections.abc import Callable
from typing import Any

import attrs
import pytest

from taskflow_core import Conflict, HookEvent, InvalidRequest, PreconditionFailed, Taskflow
from taskflow_core.errors import TaskflowError
from tests.contract.conftest import ALICE


def fail(error: Exception) -> Callable[[HookEvent], None]:
    def hook(event: HookEvent) -> None:
        raise error

    return hook


def snapshot(flow: Taskflow) -> list[dict[str, Any]]:
    return [flow.get(c["id"]) for c in flow.list({"limit": 1000})["data"]]


ERRORS = [InvalidRequest("bad"), Conflict("taken"), PreconditionFailed("stale"), KeyError("x")]


class TestCreateRollback:
    @pytest.mark.parametrize("error", ERRORS, ids=type)
    @pytest.mark.parametrize("pattern", ["pre-create", "create"])
    def test_failed_create_hook_leaves_no_case(
        self, flow: Taskflow, pattern: str, error: Exception
    ) -> None:
        flow.hook(pattern, fail(error))
        with pytest.raises(type(error)):
            flow.create({"a": 1}, user=ALICE)
        assert flow.list()["meta"]["count"] == 0

    def test_failure_after_changes_to_other_cases_undoes_them_too(self, flow: Taskflow) -> None:
        other = flow.create({"n": 1})
        before = snapshot(flow)

        def touch_then_fail(event: HookEvent) -> None:
            event.find(other["id"]).patch({"n": 2})
            event.find(other["id"]).assign("zed")
            raise Conflict("changed my mind")

        flow.hook("create", touch_then_fail)
        with pytest.raises(Conflict):
            flow.create({})
        assert snapshot(flow) == before


class TestMutationRollback:
    @pytest.fixture
    def case(self, flow: Taskflow) -> dict[str, Any]:
        case = flow.create({"a": 1})
        flow.comment(case["id"], "first", user=ALICE)
        return flow.get(case["id"])

    OPERATIONS: list[tuple[str, str, Callable[[Taskflow, str], object]]] = [
        ("pre-update", "update", lambda f, i: f.update(i, {"b": 2}, user=ALICE)),
        ("pre-status:*:*", "status:*:*", lambda f, i: f.set_status(i, "open", user=ALICE)),
        ("pre-assign", "assign", lambda f, i: f.assign(i, "bob", user=ALICE)),
        ("pre-comment", "comment", lambda f, i: f.comment(i, "hi", user=ALICE)),
    ]

    @pytest.mark.parametrize("when", ["pre", "post"])
    @pytest.mark.parametrize(
        ("pre", "post", "operation"), OPERATIONS, ids=[o[1] for o in OPERATIONS]
    )
    def test_failed_hook_leaves_case_and_log_as_they_were(
        self,
        flow: Taskflow,
        case: dict[str, Any],
        when: str,
        pre: str,
        post: str,
        operation: Callable[[Taskflow, str], object],
    ) -> None:
        flow.hook(pre if when == "pre" else post, fail(ValueError("boom")))
        with pytest.raises(ValueError, match="boom"):
            operation(flow, case["id"])
        assert flow.get(case["id"]) == case

    def test_failure_in_a_cascaded_hook_rolls_back_every_step(
        self, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        flow.hook("status:new:one", lambda e: e.patch({"one": True}))
        flow.hook("status:new:one", lambda e: e.set_status("two"))
        flow.hook("status:one:two", lambda e: e.assign("bob"))
        flow.hook("assign", fail(TaskflowError("nope")))
        with pytest.raises(TaskflowError):
            flow.set_status(case["id"], "one")
        assert flow.get(case["id"]) == case

    def test_failure_of_the_change_itself_rolls_back_what_pre_hooks_did(
        self, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        flow.hook("pre-update", lambda e: e.assign("bob"))
        with pytest.raises(TypeError):
            # A set is not JSON: the store refuses the change after the pre-hook's assign.
            flow.update(case["id"], {"bad": {1, 2}})
        assert flow.get(case["id"]) == case

    def test_failed_comment_edit_keeps_the_old_text(
        self, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        comment_id = case["activityLog"][0]["id"]
        flow.hook("update-comment", fail(ValueError("boom")))
        flow.hook("delete-comment", fail(ValueError("boom")))
        with pytest.raises(ValueError, match="boom"):
            flow.update_comment(case["id"], comment_id, "changed", user=ALICE)
        with pytest.raises(ValueError, match="boom"):
            flow.delete_comment(case["id"], comment_id, user=ALICE)
        assert flow.get(case["id"]) == case


class TestUnitOfWork:
    def test_leaving_without_commit_rolls_back(self, flow: Taskflow) -> None:
        case = flow.create({"a": 1})
        store = flow.store
        with store.unit_of_work() as uow:
            current = uow.cases.get(case["id"], lock=True)
            assert current is not None
            uow.cases.save(attrs.evolve(current, status="changed"))
            assert uow.cases.get(case["id"]).status == "changed"  # type: ignore[union-attr]
        assert flow.get(case["id"])["status"] == "new"

    def test_explicit_rollback_discards_the_changes(self, flow: Taskflow) -> None:
        case = flow.create({"a": 1})
        with flow.store.unit_of_work() as uow:
            current = uow.cases.get(case["id"], lock=True)
            assert current is not None
            uow.cases.save(attrs.evolve(current, status="changed"))
            uow.rollback()
        assert flow.get(case["id"])["status"] == "new"

    def test_commit_makes_changes_visible_to_later_units_of_work(self, flow: Taskflow) -> None:
        case = flow.create({"a": 1})
        with flow.store.unit_of_work() as uow:
            current = uow.cases.get(case["id"], lock=True)
            assert current is not None
            uow.cases.save(attrs.evolve(current, status="changed"))
            uow.commit()
        assert flow.get(case["id"])["status"] == "changed"
