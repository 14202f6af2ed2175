"""Who may see which case (SPEC §16, docs/access.md): ``flow.access(read=, scope=, feed=)``,
applied in the core, on every store, from Python."""

from datetime import timedelta
from typing import Any

import pytest

from taskflow_core import Forbidden, NotFound, Taskflow

from .conftest import ALICE, OPERATIONS, comment_of, hook_calls

ACME = {"profile": {"id": "ann"}, "claims": {"organisation": "acme"}}
GLOBEX = {"profile": {"id": "gus"}, "claims": {"organisation": "globex"}}
AUDITOR = {"profile": {"id": "ada"}, "roles": ["auditor"]}


def organisation(user: Any) -> str | None:
    return None if user is None else user.get("claims", {}).get("organisation")


def same_organisation(user: Any, case: dict[str, Any]) -> bool:
    return organisation(user) is not None and case["data"].get("org") == organisation(user)


def organisation_scope(user: Any) -> dict[str, Any]:
    # A user of no organisation is scoped to an organisation no case has.
    return {"data": {"org": organisation(user) or "-none-"}}


def with_rules(flow: Taskflow) -> Taskflow:
    return flow.access(
        read=same_organisation,
        scope=organisation_scope,
        feed=lambda user: user is not None and "auditor" in user.get("roles", []),
    )


def ids(body: dict[str, Any]) -> list[str]:
    return [c["id"] for c in body["data"]]


class TestRead:
    def test_a_case_the_user_may_not_read_is_not_found(self, flow: Taskflow) -> None:
        case = flow.create({"org": "acme"})
        with_rules(flow)
        assert flow.get(case["id"], user=ACME)["id"] == case["id"]
        for user in (GLOBEX, None):
            with pytest.raises(NotFound) as caught:
                flow.get(case["id"], user=user)
            # The words of a case that does not exist: nothing tells the two apart.
            with pytest.raises(NotFound) as missing:
                flow.get("00000000-0000-4000-8000-000000000000", user=user)
            assert caught.value.message == missing.value.message
            with pytest.raises(NotFound):
                flow.read(case["id"], user=user)
            with pytest.raises(NotFound):
                flow.next_statuses(case["id"], user)
            with pytest.raises(NotFound):
                flow.timers(case["id"], user=user)
            with pytest.raises(NotFound):
                flow.deliveries(case["id"], user=user)

    @pytest.mark.parametrize("operation", sorted(OPERATIONS))
    def test_every_mutation_of_an_unreadable_case_is_not_found_and_changes_nothing(
        self, flow: Taskflow, operation: str
    ) -> None:
        case = flow.create({"org": "acme", "name": "x"})
        case = flow.comment(case["id"], "first", user=ALICE)
        # The operations act as ALICE, whom the rule refuses; acme's users still read.
        flow.access(read=lambda user, c: user is not ALICE and same_organisation(user, c))
        calls = hook_calls(flow)
        before = flow.get(case["id"], user=ACME)
        with pytest.raises(NotFound):
            OPERATIONS[operation](flow, case)
        assert calls == []  # refused before any hook
        assert flow.get(case["id"], user=ACME) == before

    def test_the_rule_sees_the_case_as_a_listing_shows_it(self, flow: Taskflow) -> None:
        seen: list[dict[str, Any]] = []
        case = flow.create({"org": "acme"})
        flow.comment(case["id"], "hello", user=ALICE)

        def rule(user: Any, shown: dict[str, Any]) -> bool:
            seen.append(shown)
            return True

        flow.access(read=rule)
        flow.get(case["id"], user=ACME)
        flow.set_status(case["id"], "open", user=ACME)
        assert {s["id"] for s in seen} == {case["id"]}
        assert all("activityLog" not in s and s["data"] == {"org": "acme"} for s in seen)

    def test_deadline_actions_on_an_unreadable_case_are_not_found(self, flow: Taskflow) -> None:
        flow.deadline("decision", within=timedelta(days=10), starts=["submitted"])
        case = flow.create({"org": "acme"})
        flow.set_status(case["id"], "submitted")
        with_rules(flow)
        with pytest.raises(NotFound):
            flow.extend_deadline(
                case["id"], "decision", by=timedelta(days=1), reason="r", user=GLOBEX
            )
        with pytest.raises(NotFound):
            flow.remove_deadline(case["id"], "decision", reason="r", user=GLOBEX)
        with pytest.raises(NotFound):
            flow.reinstate_deadline(case["id"], "decision", reason="r", user=GLOBEX)
        # Unknown to the user, whatever the name: the case's 404 comes first.
        with pytest.raises(NotFound):
            flow.remove_deadline(case["id"], "nothing", reason="r", user=GLOBEX)
        shown = flow.get(case["id"], user=ACME)
        assert shown["deadlines"][0]["state"] == "running"
        assert shown["activityLog"][0]["eventName"] == "status:new:submitted"
        flow.remove_deadline(case["id"], "decision", reason="r", user=ACME)

    def test_a_version_mismatch_of_an_unreadable_case_is_still_not_found(
        self, flow: Taskflow
    ) -> None:
        case = flow.create({"org": "acme"})
        with_rules(flow)
        with pytest.raises(NotFound):
            flow.set_status(case["id"], "open", user=GLOBEX, expected_version=99)

    def test_a_readable_case_is_changed_as_before(self, flow: Taskflow) -> None:
        case = flow.create({"org": "acme"})
        with_rules(flow)
        changed = flow.comment(case["id"], "fine", user=ACME)
        assert comment_of(changed)
        assert flow.set_status(case["id"], "open", user=ACME)["status"] == "open"


class TestScope:
    def make(self, flow: Taskflow) -> dict[str, list[str]]:
        made: dict[str, list[str]] = {"acme": [], "globex": []}
        for org, status in (("acme", "new"), ("acme", "open"), ("globex", "open"), ("acme", "new")):
            made[org].append(flow.create({"org": org, "status_hint": status})["id"])
            if status == "open":
                flow.set_status(made[org][-1], "open")
        return made

    def test_listings_hold_only_the_users_cases(self, flow: Taskflow) -> None:
        made = self.make(flow)
        with_rules(flow)
        acme = flow.list(user=ACME)
        assert ids(acme) == made["acme"]
        assert acme["meta"]["count"] == 3
        assert ids(flow.list(user=GLOBEX)) == made["globex"]
        assert flow.list(user=None) == {"data": [], "meta": {"count": 0}}
        streamed = flow.listing({"limit": 2}, user=ACME)
        assert streamed.count == 3

    def test_the_users_query_is_anded_with_the_scope(self, flow: Taskflow) -> None:
        made = self.make(flow)
        with_rules(flow)
        assert ids(flow.list({"status": ["open"]}, user=ACME)) == [made["acme"][1]]
        # Asking for another organisation's cases finds none (the two conflict).
        assert flow.list({"data": {"org": "globex"}}, user=ACME)["meta"]["count"] == 0
        assert flow.counts("status", {"data": {"org": "globex"}}, user=ACME)["meta"] == {"count": 0}

    def test_counts_and_views_count_only_what_the_user_sees(self, flow: Taskflow) -> None:
        self.make(flow)
        flow.view("open", {"status": ["open"]}).view("all")
        with_rules(flow)
        assert flow.counts("status", user=ACME)["data"] == [
            {"value": "new", "count": 2},
            {"value": "open", "count": 1},
        ]
        assert flow.counts("status", user=GLOBEX)["data"] == [{"value": "open", "count": 1}]
        assert [(v["name"], v["count"]) for v in flow.views(user=ACME)] == [("open", 1), ("all", 3)]
        assert [(v["name"], v["count"]) for v in flow.views(user=GLOBEX)] == [
            ("open", 1),
            ("all", 1),
        ]
        assert ids(flow.list({"view": "open"}, user=GLOBEX)) == ids(flow.list(user=GLOBEX))

    def test_a_scope_of_none_restricts_nothing(self, flow: Taskflow) -> None:
        self.make(flow)
        flow.access(scope=lambda user: None if user is AUDITOR else {"status": ["open"]})
        assert flow.list(user=AUDITOR)["meta"]["count"] == 4
        assert flow.list(user=ACME)["meta"]["count"] == 2

    def test_a_scope_that_is_not_a_query_fails_loudly(self, flow: Taskflow) -> None:
        flow.access(scope=lambda user: ["acme"])
        with pytest.raises(TypeError):
            flow.list(user=ACME)
        flow.access(scope=lambda user: {"view": "open"})
        with pytest.raises(ValueError, match="view"):
            flow.list(user=ACME)


class TestFeed:
    def test_without_access_the_feed_is_open_from_python(self, flow: Taskflow) -> None:
        flow.create({})
        assert len(flow.changes(user=None)["data"]) == 1

    def test_with_access_and_no_feed_rule_nobody_reads_the_feed(self, flow: Taskflow) -> None:
        flow.create({})
        flow.access(read=same_organisation)
        for user in (None, ACME, AUDITOR):
            with pytest.raises(Forbidden):
                flow.changes(user=user)

    def test_the_feed_rule_decides(self, flow: Taskflow) -> None:
        flow.create({})
        with_rules(flow)
        assert len(flow.changes(user=AUDITOR)["data"]) == 1
        with pytest.raises(Forbidden):
            flow.changes(user=ACME)


def test_access_rules_must_be_callable(flow: Taskflow) -> None:
    with pytest.raises(ValueError, match="read"):
        flow.access(read=True)  # type: ignore[arg-type]
    assert flow.access() is flow


def test_a_replay_under_an_idempotency_key_is_not_found_once_unreadable(flow: Taskflow) -> None:
    case = flow.create({"org": "acme"})
    with_rules(flow)
    first = flow.comment(case["id"], "hi", user=ACME, idempotency_key="k-1")
    assert flow.comment(case["id"], "hi", user=ACME, idempotency_key="k-1") == first
    flow.access(read=lambda user, shown: False)
    with pytest.raises(NotFound):
        flow.comment(case["id"], "hi", user=ACME, idempotency_key="k-1")
