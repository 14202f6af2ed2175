"""The declared workflow on every store: which status changes pass, for whom, and what comes
next; a refused change leaves nothing behind."""

import logging
from collections.abc import Callable
from typing import Any

import pytest

from taskflow_core import Conflict, Forbidden, HookEvent, NotFound, Taskflow
from taskflow_core.memory import MemoryStore
from tests.contract.conftest import ALICE, BOB

OFFICER = {"profile": {"id": "olga"}, "roles": ["officer"]}


def is_officer(case: dict[str, Any], user: Any) -> bool:
    return isinstance(user, dict) and "officer" in user.get("roles", ())


def never(case: dict[str, Any], user: Any) -> bool:
    return False


def broken(case: dict[str, Any], user: Any) -> bool:
    raise RuntimeError("the guard has a bug")


def without_next(case: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in case.items() if key != "nextStatuses"}


@pytest.fixture
def review(flow: Taskflow) -> Taskflow:
    """new -> submitted -> approved (officers) / rejected; withdrawn from anywhere."""
    return (
        flow.transition("new", "submitted")
        .transition("submitted", "approved", guard=is_officer)
        .transition("submitted", "rejected")
        .transition("*", "withdrawn")
    )


@pytest.fixture
def submitted(review: Taskflow) -> dict[str, Any]:
    case = review.create({"name": "Ada"}, user=ALICE)
    return review.set_status(case["id"], "submitted", user=ALICE)


class TestUndeclaredChanges:
    def test_request_for_an_undeclared_change_is_a_conflict_naming_what_is_allowed(
        self, review: Taskflow
    ) -> None:
        case = review.create({}, user=ALICE)

        with pytest.raises(Conflict) as refused:
            review.set_status(case["id"], "approved", user=ALICE)

        assert refused.value.errors == {"status": ["submitted", "withdrawn"]}
        assert review.get(case["id"], user=ALICE) == case

    def test_refused_change_runs_no_hook_and_writes_no_activity_entry(
        self, review: Taskflow
    ) -> None:
        ran: list[str] = []
        review.hook("pre-status:*:*", lambda e: ran.append(e.event))
        review.hook("status:*:*", lambda e: ran.append(e.event))
        case = review.create({})

        with pytest.raises(Conflict):
            review.set_status(case["id"], "rejected")

        assert ran == []
        assert [e["eventName"] for e in review.get(case["id"])["activityLog"]] == ["create"]

    def test_hook_making_an_undeclared_change_rolls_back_its_whole_cascade(
        self, review: Taskflow
    ) -> None:
        case = review.create({"n": 1})
        before = review.get(case["id"])

        def jump_ahead(event: HookEvent) -> None:
            event.patch({"n": 2})
            event.assign("bob")
            event.set_status("new")  # submitted -> new is declared nowhere

        review.hook("status:new:submitted", jump_ahead)

        with pytest.raises(Conflict) as refused:
            review.set_status(case["id"], "submitted", user=ALICE)

        # For alice: approving is an officer's, so it is not offered to her.
        assert refused.value.errors == {"status": ["rejected", "withdrawn"]}
        assert review.get(case["id"]) == before

    def test_change_to_the_current_status_must_be_declared_too(self, review: Taskflow) -> None:
        case = review.create({})

        with pytest.raises(Conflict):
            review.set_status(case["id"], "new")

        review.transition("new", "new")
        assert review.set_status(case["id"], "new")["activityLog"][0]["eventName"] == (
            "status:new:new"
        )

    def test_without_declarations_every_change_passes_and_no_next_statuses_appear(
        self, flow: Taskflow
    ) -> None:
        case = flow.create({})
        changed = flow.set_status(case["id"], "anything-at-all")

        assert changed["status"] == "anything-at-all"
        assert "nextStatuses" not in case
        assert "nextStatuses" not in changed
        assert "nextStatuses" not in flow.get(case["id"])
        assert flow.next_statuses(case["id"]) == []
        assert flow.workflow() == {"statuses": [], "transitions": []}


class TestGuards:
    def test_guarded_change_passes_for_the_users_its_guard_accepts(
        self, review: Taskflow, submitted: dict[str, Any]
    ) -> None:
        approved = review.set_status(submitted["id"], "approved", user=OFFICER)

        assert approved["status"] == "approved"
        assert approved["activityLog"][0]["changedBy"] == "olga"

    def test_guarded_change_is_forbidden_to_others_and_changes_nothing(
        self, review: Taskflow, submitted: dict[str, Any]
    ) -> None:
        with pytest.raises(Forbidden):
            review.set_status(submitted["id"], "approved", user=BOB)
        with pytest.raises(Forbidden):
            review.set_status(submitted["id"], "approved")

        assert review.get(submitted["id"], user=ALICE) == submitted

    def test_guard_receives_the_case_as_get_shows_it_and_the_user(
        self, review: Taskflow, submitted: dict[str, Any]
    ) -> None:
        seen: list[tuple[dict[str, Any], Any]] = []
        review.transition("submitted", "on-hold", guard=lambda c, u: seen.append((c, u)) or True)

        review.set_status(submitted["id"], "on-hold", user=BOB)

        [(case, user)] = seen
        assert case == without_next(submitted)
        assert [e["eventName"] for e in case["activityLog"]] == ["status:new:submitted", "create"]
        assert user == BOB

    def test_guard_sees_what_earlier_hooks_of_the_request_did(self, review: Taskflow) -> None:
        seen: list[dict[str, Any]] = []
        review.transition("submitted", "on-hold", guard=lambda c, u: seen.append(c) or True)
        review.hook("status:new:submitted", lambda e: e.patch({"checked": True}))
        review.hook("status:new:submitted", lambda e: e.set_status("on-hold"))
        case = review.create({})

        assert review.set_status(case["id"], "submitted")["status"] == "on-hold"

        [guarded] = seen
        assert guarded["status"] == "submitted"
        assert guarded["data"] == {"checked": True}
        assert [e["eventName"] for e in guarded["activityLog"]][:2] == [
            "update",
            "status:new:submitted",
        ]

    def test_guard_cannot_change_the_case_it_is_shown(
        self, review: Taskflow, submitted: dict[str, Any]
    ) -> None:
        def meddling(case: dict[str, Any], user: Any) -> bool:
            case["data"]["name"] = "Mallory"
            return True

        review.transition("submitted", "on-hold", guard=meddling)

        assert review.set_status(submitted["id"], "on-hold")["data"] == {"name": "Ada"}

    def test_unguarded_declaration_of_the_same_change_makes_guards_irrelevant(
        self, review: Taskflow, submitted: dict[str, Any]
    ) -> None:
        asked: list[Any] = []
        review.transition("submitted", "approved")
        review.transition("submitted", "approved", guard=lambda c, u: asked.append(u) or False)

        assert review.set_status(submitted["id"], "approved", user=BOB)["status"] == "approved"
        assert asked == []

    def test_several_guarded_declarations_pass_when_any_guard_does(self, flow: Taskflow) -> None:
        flow.transition("new", "done", guard=never)
        flow.transition("new", "done", guard=lambda c, u: u is BOB)
        first, second = flow.create({}), flow.create({})

        with pytest.raises(Forbidden):
            flow.set_status(first["id"], "done", user=ALICE)
        assert flow.set_status(second["id"], "done", user=BOB)["status"] == "done"

    def test_forbidden_when_matched_but_refused_conflict_when_not_declared(
        self, review: Taskflow, submitted: dict[str, Any]
    ) -> None:
        with pytest.raises(Forbidden) as forbidden:
            review.set_status(submitted["id"], "approved", user=ALICE)
        with pytest.raises(Conflict) as conflict:
            review.set_status(submitted["id"], "new", user=ALICE)

        assert type(forbidden.value) is Forbidden
        assert conflict.value.errors == {"status": ["rejected", "withdrawn"]}

    def test_conflict_names_the_guarded_statuses_only_to_users_who_pass(
        self, review: Taskflow, submitted: dict[str, Any]
    ) -> None:
        with pytest.raises(Conflict) as officer:
            review.set_status(submitted["id"], "new", user=OFFICER)

        assert officer.value.errors == {"status": ["approved", "rejected", "withdrawn"]}

    def test_raising_guard_fails_the_request_and_rolls_back_the_cascade(
        self, flow: Taskflow
    ) -> None:
        flow.transition("new", "submitted").transition("submitted", "approved", guard=broken)
        flow.hook("status:new:submitted", lambda e: e.patch({"touched": True}))
        flow.hook("status:new:submitted", lambda e: e.set_status("approved"))
        case = flow.create({})
        before = flow.get(case["id"])

        with pytest.raises(RuntimeError, match="the guard has a bug"):
            flow.set_status(case["id"], "submitted")

        assert flow.get(case["id"]) == before

    def test_next_statuses_counts_a_raising_guard_as_a_refusal_and_logs_it(
        self, flow: Taskflow, caplog: pytest.LogCaptureFixture
    ) -> None:
        flow.transition("new", "approved", guard=broken).transition("new", "rejected")
        case = flow.create({})
        caplog.clear()  # the create's answer asked the guard too

        with caplog.at_level(logging.WARNING, logger="taskflow_core.domain.workflow"):
            assert flow.next_statuses(case["id"], ALICE) == ["rejected"]

        [record] = [r for r in caplog.records if r.name == "taskflow_core.domain.workflow"]
        assert record.levelno == logging.WARNING
        assert "'new' -> 'approved'" in record.getMessage()


class TestAnySource:
    def test_star_allows_the_change_from_every_status(self, review: Taskflow) -> None:
        review.transition("*", "archived")
        fresh = review.create({})
        elsewhere = review.create({})
        review.set_status(elsewhere["id"], "submitted")
        review.set_status(elsewhere["id"], "rejected")

        assert review.set_status(fresh["id"], "archived")["status"] == "archived"
        assert review.set_status(elsewhere["id"], "archived")["status"] == "archived"

    def test_star_covers_statuses_no_declaration_names(self, flow: Taskflow) -> None:
        case = flow.create({})
        flow.set_status(case["id"], "legacy")  # before any declaration: anything goes
        flow.transition("*", "closed")

        assert flow.next_statuses(case["id"]) == ["closed"]
        assert flow.set_status(case["id"], "closed")["status"] == "closed"

    def test_star_and_an_explicit_source_are_ored(self, flow: Taskflow) -> None:
        flow.transition("new", "closed", guard=never).transition("*", "closed")
        case = flow.create({})

        assert flow.next_statuses(case["id"], ALICE) == ["closed"]
        assert flow.set_status(case["id"], "closed", user=ALICE)["status"] == "closed"

    def test_guarded_star_is_forbidden_when_its_guard_refuses(self, flow: Taskflow) -> None:
        flow.transition("*", "closed", guard=lambda c, u: u is ALICE)
        case = flow.create({})

        with pytest.raises(Forbidden):
            flow.set_status(case["id"], "closed", user=BOB)
        assert flow.set_status(case["id"], "closed", user=ALICE)["status"] == "closed"


MUTATIONS: list[tuple[str, Callable[[Taskflow, dict[str, Any]], dict[str, Any]]]] = [
    ("update", lambda f, c: f.update(c["id"], {"x": 1}, user=OFFICER)),
    ("merge_patch", lambda f, c: f.merge_patch(c["id"], {"x": 1}, user=OFFICER)),
    ("set_status", lambda f, c: f.set_status(c["id"], "submitted", user=OFFICER)),
    ("assign", lambda f, c: f.assign(c["id"], "bob", user=OFFICER)),
    ("comment", lambda f, c: f.comment(c["id"], "again", user=OFFICER)),
    (
        "update_comment",
        lambda f, c: f.update_comment(c["id"], c["activityLog"][0]["id"], "edit", user=OFFICER),
    ),
    (
        "delete_comment",
        lambda f, c: f.delete_comment(c["id"], c["activityLog"][0]["id"], user=OFFICER),
    ),
]


class TestNextStatuses:
    def test_get_carries_the_next_statuses_of_the_requesting_user(
        self, review: Taskflow, submitted: dict[str, Any]
    ) -> None:
        assert review.get(submitted["id"], user=ALICE)["nextStatuses"] == [
            "rejected",
            "withdrawn",
        ]
        assert review.get(submitted["id"], user=OFFICER)["nextStatuses"] == [
            "approved",
            "rejected",
            "withdrawn",
        ]
        assert review.next_statuses(submitted["id"], user=OFFICER) == [
            "approved",
            "rejected",
            "withdrawn",
        ]

    def test_create_answers_with_the_next_statuses_of_a_new_case(self, review: Taskflow) -> None:
        assert review.create({}, user=ALICE)["nextStatuses"] == ["submitted", "withdrawn"]

    @pytest.mark.parametrize(("name", "mutate"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
    def test_every_mutation_answers_with_the_next_statuses_after_it(
        self,
        review: Taskflow,
        name: str,
        mutate: Callable[[Taskflow, dict[str, Any]], dict[str, Any]],
    ) -> None:
        case = review.create({}, user=OFFICER)
        review.comment(case["id"], "first", user=OFFICER)
        case = review.get(case["id"], user=OFFICER)

        answer = mutate(review, case)

        expected = review.next_statuses(case["id"], user=OFFICER)
        assert answer["nextStatuses"] == expected
        assert expected in (["submitted", "withdrawn"], ["approved", "rejected", "withdrawn"])

    def test_list_items_carry_no_next_statuses(
        self, review: Taskflow, submitted: dict[str, Any]
    ) -> None:
        [item] = review.list(user=OFFICER)["data"]

        assert item["id"] == submitted["id"]
        assert "nextStatuses" not in item

    def test_decorators_see_the_next_statuses(
        self, review: Taskflow, submitted: dict[str, Any]
    ) -> None:
        review.decorate(lambda c, u: {**c, "canApprove": "approved" in c["nextStatuses"]})

        assert review.get(submitted["id"], user=OFFICER)["canApprove"] is True
        assert review.get(submitted["id"], user=ALICE)["canApprove"] is False

    def test_guards_for_next_statuses_see_the_case_without_them(self, flow: Taskflow) -> None:
        seen: list[dict[str, Any]] = []
        flow.transition("new", "open", guard=lambda c, u: seen.append(dict(c)) or True)
        case = flow.create({})

        assert flow.get(case["id"])["nextStatuses"] == ["open"]
        assert seen[-1] == without_next(case)
        assert "activityLog" in seen[-1]

    def test_next_statuses_of_a_missing_case_is_not_found(self, review: Taskflow) -> None:
        with pytest.raises(NotFound):
            review.next_statuses("00000000-0000-4000-8000-000000000000")

    def test_a_declaration_applies_from_the_next_request_on(
        self, review: Taskflow, submitted: dict[str, Any]
    ) -> None:
        review.transition("submitted", "escalated")

        assert "escalated" in review.get(submitted["id"])["nextStatuses"]
        assert review.set_status(submitted["id"], "escalated")["status"] == "escalated"


class TestDeclaration:
    @pytest.fixture
    def bare(self) -> Taskflow:
        return Taskflow(MemoryStore())

    @pytest.mark.parametrize(
        ("source", "target"),
        [
            ("New", "open"),
            ("new", "open_now"),
            ("", "open"),
            ("new", ""),
            ("new", "x" * 121),
            (None, "open"),
            ("new", 5),
            ("new", "*"),
            ("*", "*"),
            ("new:old", "open"),
        ],
    )
    def test_malformed_statuses_and_star_as_a_target_are_refused(
        self, bare: Taskflow, source: Any, target: Any
    ) -> None:
        with pytest.raises(ValueError, match=r"transition|'\*'"):
            bare.transition(source, target)
        assert bare.workflow() == {"statuses": [], "transitions": []}

    def test_a_guard_that_cannot_be_called_is_refused(self, bare: Taskflow) -> None:
        with pytest.raises(ValueError, match="callable"):
            bare.transition("new", "open", guard="is_officer")  # type: ignore[arg-type]
        assert bare.workflow()["transitions"] == []

    def test_transition_returns_the_flow_so_calls_chain(self, bare: Taskflow) -> None:
        assert bare.transition("new", "open").transition("open", "closed") is bare

    def test_workflow_lists_statuses_sorted_and_transitions_as_declared(
        self, bare: Taskflow
    ) -> None:
        bare.transition("new", "submitted")
        bare.transition("submitted", "approved", guard=is_officer)
        bare.transition("*", "withdrawn")
        bare.transition("submitted", "approved", guard=never)
        bare.transition("new", "submitted", guard=never)

        assert bare.workflow() == {
            "statuses": ["approved", "new", "submitted", "withdrawn"],
            "transitions": [
                {"from": "new", "to": "submitted", "guarded": False},
                {"from": "submitted", "to": "approved", "guarded": True},
                {"from": "*", "to": "withdrawn", "guarded": False},
            ],
        }
