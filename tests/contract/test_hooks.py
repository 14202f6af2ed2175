"""Hooks: order, the event object, cascades, refusals, find, redirect and on_settled."""

import logging
import uuid
from typing import Any

import pytest

from taskflow_core import Forbidden, HookEvent, NotFound, Taskflow
from tests.contract.conftest import ALICE


class TestOrder:
    def test_pre_hooks_run_before_the_change_and_post_hooks_after(self, flow: Taskflow) -> None:
        seen: list[tuple[str, Any]] = []
        case = flow.create({})
        flow.hook("pre-status:new:open", lambda e: seen.append(("pre", e.status)))
        flow.hook("status:new:open", lambda e: seen.append(("post", e.status)))
        flow.set_status(case["id"], "open")
        assert seen == [("pre", "new"), ("post", "open")]

    def test_hooks_run_in_registration_order(self, flow: Taskflow) -> None:
        seen: list[int] = []
        flow.hook("create", lambda e: seen.append(1)).hook("create", lambda e: seen.append(2))
        flow.create({})
        assert seen == [1, 2]

    def test_wildcards_match_exactly_one_part(self, flow: Taskflow) -> None:
        seen: list[str] = []
        flow.hook("status:*:*", lambda e: seen.append(e.event))
        flow.hook("status:*:open", lambda e: seen.append("to-open"))
        flow.hook("status:*", lambda e: seen.append("never"))
        case = flow.create({})
        flow.set_status(case["id"], "open")
        flow.set_status(case["id"], "closed")
        assert seen == ["status:new:open", "to-open", "status:open:closed"]

    def test_decorator_form_registers_and_returns_the_function(self, flow: Taskflow) -> None:
        seen: list[str] = []

        @flow.hook("create")
        def on_create(event: HookEvent) -> None:
            seen.append(event.id)

        case = flow.create({})
        assert seen == [case["id"]]
        assert callable(on_create)

    def test_post_hook_sees_its_own_activity_entry(self, flow: Taskflow) -> None:
        logged: list[list[str]] = []
        flow.hook("create", lambda e: logged.append([x["eventName"] for x in e.activity_log]))
        flow.create({})
        assert logged == [["create"]]


class TestEventObject:
    def test_create_event_carries_meta_user_data_and_payload(self, flow: Taskflow) -> None:
        events: list[tuple[str, dict[str, Any], str | None]] = []
        flow.hook("pre-create", lambda e: events.append((e.event, e.meta, e.status)))
        flow.hook("create", lambda e: events.append((e.event, e.meta, e.status)))
        case = flow.create({"a": 1}, user=ALICE)
        (pre_name, pre_meta, pre_status), (name, meta, status) = events
        assert (pre_name, pre_status) == ("pre-create", None)
        assert pre_meta == {"user": ALICE, "data": {"a": 1}, "payload": {"a": 1}}
        assert (name, status) == ("create", "new")
        assert meta["data"] == {"a": 1}
        assert case["data"] == {"a": 1}

    def test_pre_create_id_is_the_id_the_case_gets(self, flow: Taskflow) -> None:
        ids: list[str] = []
        flow.hook("pre-create", lambda e: ids.append(e.id))
        case = flow.create({})
        assert ids == [case["id"]]

    def test_update_meta_holds_the_whole_merged_data(self, flow: Taskflow) -> None:
        metas: list[dict[str, Any]] = []
        flow.hook("pre-update", lambda e: metas.append(e.meta))
        case = flow.create({"a": 1, "b": {"c": 1}})
        flow.update(case["id"], {"b": {"d": 2}}, payload={"data": {"b": {"d": 2}}})
        assert metas[0]["data"] == {"a": 1, "b": {"c": 1, "d": 2}}
        assert metas[0]["payload"] == {"data": {"b": {"d": 2}}}

    def test_each_hook_sees_what_earlier_hooks_changed(self, flow: Taskflow) -> None:
        seen: list[Any] = []
        flow.hook("create", lambda e: e.patch({"step": 1}))
        flow.hook("create", lambda e: seen.append((e.data, e.status, e.assigned_to)))
        flow.hook("create", lambda e: e.assign("carol"))
        flow.hook("create", lambda e: seen.append(e.assigned_to))
        flow.create({"a": 1})
        assert seen == [({"a": 1, "step": 1}, "new", None), "carol"]

    def test_editing_event_data_in_place_changes_nothing(self, flow: Taskflow) -> None:
        def vandal(event: HookEvent) -> None:
            assert event.data is not None
            event.data["hacked"] = True

        flow.hook("create", vandal)
        case = flow.create({"a": 1})
        assert flow.get(case["id"])["data"] == {"a": 1}

    def test_activity_log_includes_entries_of_this_transaction_newest_first(
        self, flow: Taskflow
    ) -> None:
        seen: list[list[str]] = []
        flow.hook("create", lambda e: e.set_status("open"))
        flow.hook(
            "status:new:open", lambda e: seen.append([x["eventName"] for x in e.activity_log])
        )
        flow.create({})
        assert seen == [["status:new:open", "create"]]


class TestCascades:
    def test_a_hook_can_cascade_status_changes(self, flow: Taskflow) -> None:
        flow.hook("status:*:one", lambda e: e.set_status("two"))
        flow.hook("status:one:two", lambda e: e.set_status("three"))
        case = flow.create({})
        result = flow.set_status(case["id"], "one")
        assert result["status"] == "three"
        assert [x["eventName"] for x in result["activityLog"]] == [
            "status:two:three",
            "status:one:two",
            "status:new:one",
            "create",
        ]

    def test_cascaded_events_carry_the_requests_user_and_payload(self, flow: Taskflow) -> None:
        metas: list[dict[str, Any]] = []
        flow.hook("status:new:open", lambda e: e.update({"replaced": True}))
        flow.hook("update", lambda e: metas.append(e.meta))
        case = flow.create({"a": 1})
        result = flow.set_status(case["id"], "open", user=ALICE, payload={"status": "open"})
        assert metas == [{"data": {"replaced": True}, "user": ALICE, "payload": {"status": "open"}}]
        assert {x["changedBy"] for x in result["activityLog"][:2]} == {"alice"}
        assert result["data"] == {"replaced": True}

    def test_runaway_cascade_stops_with_an_error_and_rolls_back(self, flow: Taskflow) -> None:
        case = flow.create({"n": 0})
        flow.hook("update", lambda e: e.patch({"n": (e.data or {})["n"] + 1}))
        with pytest.raises(RuntimeError):
            flow.update(case["id"], {"n": 1})
        assert flow.get(case["id"])["data"] == {"n": 0}


class TestRefusals:
    @pytest.mark.parametrize(
        ("action", "args"),
        [
            ("set_status", ("open",)),
            ("update", ({"x": 1},)),
            ("patch", ({"x": 1},)),
            ("assign", ("bob",)),
        ],
    )
    def test_pre_create_refuses_every_mutation_with_a_warning(
        self, flow: Taskflow, caplog: pytest.LogCaptureFixture, action: str, args: tuple[Any]
    ) -> None:
        flow.hook("pre-create", lambda e: getattr(e, action)(*args))
        with caplog.at_level(logging.WARNING):
            case = flow.create({"a": 1})
        assert (case["status"], case["data"], case["assignedTo"]) == ("new", {"a": 1}, None)
        assert any(action in r.getMessage() for r in caplog.records)

    def test_pre_status_refuses_set_status_but_allows_patch(self, flow: Taskflow) -> None:
        flow.hook("pre-status:*:*", lambda e: e.set_status("other"))
        flow.hook("pre-status:*:*", lambda e: e.patch({"checked": True}))
        case = flow.create({})
        result = flow.set_status(case["id"], "open")
        assert result["status"] == "open"
        assert result["data"] == {"checked": True}

    def test_pre_update_refuses_update_and_patch_but_allows_assign(self, flow: Taskflow) -> None:
        flow.hook("pre-update", lambda e: e.update({"gone": True}))
        flow.hook("pre-update", lambda e: e.patch({"gone": True}))
        flow.hook("pre-update", lambda e: e.assign("dave"))
        case = flow.create({})
        result = flow.update(case["id"], {"x": 1})
        assert result["data"] == {"x": 1}
        assert result["assignedTo"] == "dave"


class TestFind:
    def test_find_gives_a_handle_that_changes_another_case(self, flow: Taskflow) -> None:
        other = flow.create({"other": True})
        seen: list[Any] = []

        def touch_other(event: HookEvent) -> None:
            handle = event.find(other["id"])
            seen.append((handle.id, handle.status, handle.data))
            handle.set_status("linked")
            handle.patch({"link": event.id})

        flow.hook("create", touch_other)
        case = flow.create({})
        assert seen == [(other["id"], "new", {"other": True})]
        linked = flow.get(other["id"])
        assert linked["status"] == "linked"
        assert linked["data"] == {"other": True, "link": case["id"]}

    def test_find_of_unknown_case_fails_the_request(self, flow: Taskflow) -> None:
        flow.hook("create", lambda e: e.find(str(uuid.uuid4())))
        with pytest.raises(NotFound):
            flow.create({})
        assert flow.list()["meta"]["count"] == 0


class TestRedirect:
    @pytest.mark.parametrize("as_dict", [False, True])
    def test_redirect_in_pre_create_answers_with_the_existing_case(
        self, flow: Taskflow, as_dict: bool
    ) -> None:
        existing = flow.create({"subject": "dup"})
        later: list[str] = []
        flow.hook(
            "pre-create",
            lambda e: e.redirect({"id": existing["id"]} if as_dict else existing["id"]),
        )
        flow.hook("pre-create", lambda e: later.append("pre"))
        flow.hook("create", lambda e: later.append("post"))
        answered = flow.create({"subject": "dup"})
        assert answered["id"] == existing["id"]
        assert later == []
        assert flow.list()["meta"]["count"] == 1

    def test_redirect_outside_pre_create_is_a_programming_error(self, flow: Taskflow) -> None:
        existing = flow.create({})
        flow.hook("create", lambda e: e.redirect(existing["id"]))
        with pytest.raises(RuntimeError):
            flow.create({})
        assert flow.list()["meta"]["count"] == 1


class TestOnSettled:
    def test_callbacks_run_after_commit_in_order(self, flow: Taskflow) -> None:
        seen: list[Any] = []

        def hook(event: HookEvent) -> None:
            event.on_settled(lambda: seen.append(("first", flow.get(event.id)["status"])))
            event.on_settled(lambda: seen.append(("second",)))

        flow.hook("create", hook)
        flow.hook("create", lambda e: e.set_status("open"))
        flow.create({})
        assert seen == [("first", "open"), ("second",)]

    def test_callbacks_never_run_when_the_transaction_rolls_back(self, flow: Taskflow) -> None:
        seen: list[str] = []
        flow.hook("create", lambda e: e.on_settled(lambda: seen.append("ran")))
        flow.hook("create", lambda e: (_ for _ in ()).throw(Forbidden("no")))
        with pytest.raises(Forbidden):
            flow.create({})
        assert seen == []

    def test_a_failing_callback_is_logged_and_the_request_still_succeeds(
        self, flow: Taskflow, caplog: pytest.LogCaptureFixture
    ) -> None:
        seen: list[str] = []

        def boom() -> None:
            raise ValueError("downstream down")

        flow.hook("create", lambda e: e.on_settled(boom))
        flow.hook("create", lambda e: e.on_settled(lambda: seen.append("after")))
        case = flow.create({})
        assert flow.get(case["id"])["status"] == "new"
        assert seen == ["after"]
        assert "on_settled" in caplog.text


class TestRegistration:
    @pytest.mark.parametrize(
        "pattern", ["*", "*:new", "status::x", "", "status:1:x", "status:-x", "a b", "status:*:"]
    )
    def test_malformed_patterns_are_refused(self, flow: Taskflow, pattern: str) -> None:
        with pytest.raises(ValueError, match="pattern"):
            flow.hook(pattern, lambda e: None)
        with pytest.raises(ValueError, match="pattern"):
            flow.hook(pattern)

    def test_hooks_added_later_apply_to_later_requests(self, flow: Taskflow) -> None:
        first = flow.create({})
        flow.hook("create", lambda e: e.patch({"late": True}))
        assert first["data"] == {}
        assert flow.create({})["data"] == {"late": True}
