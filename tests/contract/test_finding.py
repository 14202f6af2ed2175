"""Finding the work (SPEC §13, docs/finding.md): search, unassigned, time ranges, named views
and counts, on every store."""

from datetime import UTC, datetime
from typing import Any

import pytest

from taskflow_core import Forbidden, InvalidRequest, Taskflow
from taskflow_core.ports import Store

from .conftest import ALICE, BOB


def ids(body: dict[str, Any]) -> list[str]:
    return [c["id"] for c in body["data"]]


def found(flow: Taskflow, q: str, **more: Any) -> list[str]:
    return ids(flow.list({"q": q, **more}))


class TestSearch:
    def test_words_match_the_start_of_words_in_data_and_comments(self, flow: Taskflow) -> None:
        case = flow.create({"product": {"title": "Licence renewal"}, "n": 3})
        flow.comment(case["id"], "Called Ada about it", user=ALICE)
        other = flow.create({"product": "licensing"})
        assert found(flow, "lic ada") == [case["id"]]
        assert found(flow, "LIC") == [case["id"], other["id"]]
        assert found(flow, "licence") == [case["id"]]
        assert found(flow, "icence") == []  # inside a word is not the start of one
        assert flow.list({"q": "ada"})["meta"]["count"] == 1

    def test_words_are_runs_of_letters_and_digits(self, flow: Taskflow) -> None:
        case = flow.create(
            {"email": "ada.lovelace@example.com", "ref": "AB-2026_17", "x": "v1.5", "é": "Ärger"}
        )
        for q in ("example", "lovelace", "com", "2026", "17", "AB", "5", "v1", "är", "ärger"):
            assert found(flow, q) == [case["id"]], q
        assert found(flow, "arger") == []  # accents are letters of their own

    def test_keys_numbers_and_other_cases_are_not_searched(self, flow: Taskflow) -> None:
        flow.create({"secretkey": "x", "n": 12345, "flag": True, "list": [{"deep": "needle"}]})
        assert found(flow, "secretkey") == []
        assert found(flow, "12345") == []
        assert len(found(flow, "needle")) == 1

    def test_comments_count_as_last_edited_and_not_when_deleted(self, flow: Taskflow) -> None:
        case = flow.create({})
        flow.comment(case["id"], "first draft", user=ALICE)
        comment_id = next(
            e["id"] for e in flow.get(case["id"])["activityLog"] if e["eventName"] == "comment"
        )
        assert found(flow, "draft") == [case["id"]]
        flow.update_comment(case["id"], comment_id, "final version", user=ALICE)
        assert found(flow, "draft") == []
        assert found(flow, "final") == [case["id"]]
        flow.delete_comment(case["id"], comment_id, user=ALICE)
        assert found(flow, "final") == []

    def test_comments_after_an_edit_or_deletion_are_found_with_the_rest(
        self, flow: Taskflow
    ) -> None:
        case = flow.create({"name": "Smith"})
        flow.comment(case["id"], "first draft", user=ALICE)
        flow.comment(case["id"], "second draft", user=ALICE)
        first, second = (
            e["id"] for e in flow.get(case["id"])["activityLog"] if e["eventName"] == "comment"
        )
        flow.update_comment(case["id"], first, "outline", user=ALICE)
        assert found(flow, "draft") == [case["id"]]  # the second still says it
        flow.delete_comment(case["id"], second, user=ALICE)
        assert found(flow, "draft") == []
        flow.comment(case["id"], "third note", user=BOB)
        flow.comment(case["id"], "third note", user=BOB)  # no new word
        for q in ("smith", "outline", "third", "note", "smith outline third"):
            assert found(flow, q) == [case["id"]], q
        assert found(flow, "second") == []
        flow.update(case["id"], {"name": "Jones"})
        assert found(flow, "jones outline third") == [case["id"]]
        assert found(flow, "smith") == []

    def test_status_and_assignee_changes_keep_the_case_found(self, flow: Taskflow) -> None:
        case = flow.create({"name": "Smith"})
        flow.comment(case["id"], "Called about the fee", user=ALICE)
        flow.set_status(case["id"], "open")
        flow.assign(case["id"], "bob")
        assert found(flow, "smith fee") == [case["id"]]
        assert found(flow, "smith", status="open") == [case["id"]]
        flow.assign(case["id"], None)
        flow.set_status(case["id"], "closed")
        assert found(flow, "fee", status="closed") == [case["id"]]

    def test_data_changes_are_found_at_once(self, flow: Taskflow) -> None:
        case = flow.create({"name": "Smith"})
        flow.update(case["id"], {"name": "Jones"})
        assert found(flow, "smith") == []
        assert found(flow, "jones") == [case["id"]]
        flow.merge_patch(case["id"], {"name": None, "other": "Brown"})
        assert found(flow, "jones") == []
        assert found(flow, "brown") == [case["id"]]

    def test_a_failed_change_leaves_the_search_as_it_was(self, flow: Taskflow) -> None:
        case = flow.create({"name": "Smith"})

        def refuse(event: Any) -> None:
            raise Forbidden("no")

        flow.hook("update", refuse).hook("comment", refuse)
        with pytest.raises(Forbidden):
            flow.update(case["id"], {"name": "Jones"})
        with pytest.raises(Forbidden):
            flow.comment(case["id"], "zebra", user=ALICE)
        assert found(flow, "smith") == [case["id"]]
        assert found(flow, "jones") == []
        assert found(flow, "zebra") == []

    def test_search_syntax_characters_are_plain_text(self, flow: Taskflow) -> None:
        case = flow.create({"t": 'say "near" * to - them'})
        flow.create({"t": "unrelated"})
        for q in ('"near"', "near*", "NEAR(say them)", "-say", "Say TO", "to:* & them|"):
            assert found(flow, q) == [case["id"]], q
        # OR is a word like any other (no case has a word starting with "or").
        assert found(flow, "say OR unrelated") == []
        assert found(flow, "'); drop table cases; --") == []
        assert flow.list()["meta"]["count"] == 2

    def test_a_q_without_words_is_ignored(self, flow: Taskflow) -> None:
        flow.create({})
        assert flow.list({"q": " -*- "})["meta"]["count"] == 1
        assert flow.list({"q": ""})["meta"]["count"] == 1

    @pytest.mark.parametrize("q", ["x" * 10_000, " ".join(f"w{i}" for i in range(500))])
    def test_an_oversized_q_is_refused(self, flow: Taskflow, q: str) -> None:
        with pytest.raises(InvalidRequest) as raised:
            flow.list({"q": q})
        assert raised.value.errors == {"q": "too long"}

    def test_search_combines_with_other_filters_sort_and_pages(self, flow: Taskflow) -> None:
        made = [flow.create({"t": f"apple {i}"}) for i in range(4)]
        flow.create({"t": "pear"})
        flow.set_status(made[1]["id"], "open")
        flow.set_status(made[2]["id"], "open")
        body = flow.list({"q": "app", "status": "open", "sort": {"column": "createdAt"}})
        assert ids(body) == [made[2]["id"], made[1]["id"]]
        assert body["meta"]["count"] == 2
        body = flow.list({"q": "app", "limit": 1, "offset": 1})
        assert ids(body) == [made[1]["id"]]
        assert body["meta"]["count"] == 4


class TestUnassignedAndRanges:
    def test_unassigned_true_only_keeps_cases_without_assignee(self, flow: Taskflow) -> None:
        a, b = flow.create({}), flow.create({})
        flow.assign(b["id"], "bob")
        assert ids(flow.list({"unassigned": "true"})) == [a["id"]]
        assert ids(flow.list({"unassigned": True})) == [a["id"]]
        assert ids(flow.list({"unassigned": "false"})) == [a["id"], b["id"]]
        with pytest.raises(InvalidRequest) as raised:
            flow.list({"unassigned": "yes"})
        assert raised.value.errors == {"unassigned": "invalid"}

    def test_ranges_take_from_inclusive_and_to_exclusive(self, store: Store) -> None:
        now = [datetime(2026, 11, 30, 23, 0, tzinfo=UTC)]
        flow = Taskflow(store, clock=lambda: now[0])
        first = flow.create({})
        now[0] = datetime(2026, 12, 1, tzinfo=UTC)
        second = flow.create({})
        now[0] = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
        third = flow.create({})
        flow.update(first["id"], {"x": "1"})

        def listed(**query: Any) -> list[str]:
            return ids(flow.list(query))

        assert listed(createdAt={"from": "2026-12-01"}) == [second["id"], third["id"]]
        assert listed(createdAt={"to": "2026-12-01"}) == [first["id"]]
        assert listed(createdAt={"from": "2026-12-01T00:00:00Z", "to": "2026-12-02"}) == [
            second["id"]
        ]
        # 10:00 at +01:00 is 09:00 UTC, before the third case.
        assert listed(createdAt={"from": "2026-12-02T10:00:00+01:00"}) == [third["id"]]
        assert listed(createdAt={"from": "2026-12-02T11:00:00+01:00"}) == []
        assert listed(updatedAt={"from": "2026-12-02"}) == [first["id"], third["id"]]
        assert listed(createdAt={"from": datetime(2026, 12, 2, tzinfo=UTC)}) == [third["id"]]
        assert len(listed(createdAt={"from": "0001-01-01", "to": "9999-12-31"})) == 3

    @pytest.mark.parametrize(
        ("query", "name"),
        [
            ({"createdAt": {"from": "yesterday"}}, "createdAt[from]"),
            ({"createdAt": {"to": "2026-12-01T10:00:00"}}, "createdAt[to]"),  # no offset
            ({"updatedAt": {"from": "2026-13-01"}}, "updatedAt[from]"),
            ({"updatedAt": {"to": ["2026-12-01", "2026-12-02"]}}, "updatedAt[to]"),
            ({"createdAt": "2026-12-01"}, "createdAt"),
            ({"createdAt": {"since": "2026-12-01"}}, 'createdAt["since"]'),
            # Valid text, but outside the instants any store can hold once in UTC.
            ({"createdAt": {"from": "0001-01-01T00:00:00+01:00"}}, "createdAt[from]"),
            ({"updatedAt": {"to": "9999-12-31T23:30:00-01:00"}}, "updatedAt[to]"),
            ({"createdAt": {"from": 20261201}}, "createdAt[from]"),
        ],
    )
    def test_malformed_ranges_answer_400_naming_the_parameter(
        self, flow: Taskflow, query: dict[str, Any], name: str
    ) -> None:
        with pytest.raises(InvalidRequest) as raised:
            flow.list(query)
        assert list(raised.value.errors) == [name]


class TestViews:
    @pytest.fixture
    def inbox(self, flow: Taskflow) -> dict[str, str]:
        flow.view("mine", lambda user: {"assignedTo": [user["profile"]["id"]]}, title="My cases")
        flow.view("waiting", {"unassigned": True, "status": ["submitted"]}, title="Waiting")
        flow.view("all")
        made = {}
        for name, status, assignee in [
            ("a", "submitted", None),
            ("b", "submitted", "alice"),
            ("c", "open", "alice"),
            ("d", "submitted", None),
            ("e", "open", "bob"),
        ]:
            case = flow.create({"name": f"case {name}"})
            flow.set_status(case["id"], status)
            if assignee:
                flow.assign(case["id"], assignee)
            made[name] = case["id"]
        return made

    def test_views_are_listed_in_order_with_counts_for_the_user(
        self, flow: Taskflow, inbox: dict[str, str]
    ) -> None:
        assert flow.views(user=ALICE) == [
            {"name": "mine", "title": "My cases", "count": 2},
            {"name": "waiting", "title": "Waiting", "count": 2},
            {"name": "all", "title": "all", "count": 5},
        ]
        assert flow.views(user=BOB)[0]["count"] == 1

    def test_a_view_is_anded_with_the_other_parameters(
        self, flow: Taskflow, inbox: dict[str, str]
    ) -> None:
        assert ids(flow.list({"view": "mine"}, user=ALICE)) == [inbox["b"], inbox["c"]]
        assert ids(flow.list({"view": "mine", "status": "open"}, user=ALICE)) == [inbox["c"]]
        # Both name statuses: a case must satisfy both, so none here.
        assert flow.list({"view": "waiting", "status": "open"})["meta"]["count"] == 0
        assert ids(flow.list({"view": "waiting", "q": "d"})) == [inbox["d"]]
        counts = flow.counts("status", {"view": "mine"}, user=ALICE)
        assert counts["data"] == [{"value": "open", "count": 1}, {"value": "submitted", "count": 1}]

    def test_an_unknown_view_is_400(self, flow: Taskflow, inbox: dict[str, str]) -> None:
        with pytest.raises(InvalidRequest) as raised:
            flow.list({"view": "nope"})
        assert raised.value.errors == {"view": "unknown"}

    def test_a_view_may_refuse_an_anonymous_user(self, flow: Taskflow) -> None:
        def mine(user: Any) -> dict[str, Any]:
            if user is None:
                raise Forbidden("Sign in to see your cases")
            return {"assignedTo": user["profile"]["id"]}

        flow.view("mine", mine)
        with pytest.raises(Forbidden):
            flow.list({"view": "mine"})
        assert flow.list({"view": "mine"}, user=ALICE)["meta"]["count"] == 0

    def test_a_malformed_view_is_refused_when_declared(self, flow: Taskflow) -> None:
        with pytest.raises(InvalidRequest):
            flow.view("bad", {"limit": "many"})
        with pytest.raises(ValueError, match="name"):
            flow.view("has space", {})
        with pytest.raises(ValueError, match="names a view itself"):
            flow.view("nested", {"view": "other"})
        assert flow.views() == []


class TestCounts:
    @pytest.fixture
    def made(self, flow: Taskflow) -> None:
        for status, assignee, word in [
            ("open", "bob", "alpha"),
            ("open", None, "alpha"),
            ("closed", "bob", "beta"),
            ("open", "carol", "beta"),
            ("new", None, "alpha"),
        ]:
            case = flow.create({"w": word})
            if status != "new":
                flow.set_status(case["id"], status)
            if assignee:
                flow.assign(case["id"], assignee)

    def test_counts_by_status_sorted_by_count_then_value(self, flow: Taskflow, made: None) -> None:
        assert flow.counts("status") == {
            "data": [
                {"value": "open", "count": 3},
                {"value": "closed", "count": 1},
                {"value": "new", "count": 1},
            ],
            "meta": {"count": 5},
        }
        assert flow.counts("status", {"status": ["open", "new"]})["meta"] == {"count": 4}

    def test_counts_by_assignee_put_null_last(self, flow: Taskflow, made: None) -> None:
        assert flow.counts("assignedTo")["data"] == [
            {"value": "bob", "count": 2},
            {"value": None, "count": 2},
            {"value": "carol", "count": 1},
        ]

    def test_counts_take_the_listings_filters(self, flow: Taskflow, made: None) -> None:
        assert flow.counts("status", {"q": "alp"})["data"] == [
            {"value": "open", "count": 2},
            {"value": "new", "count": 1},
        ]
        assert flow.counts("assignedTo", {"data": {"w": "beta"}, "status": "open"}) == {
            "data": [{"value": "carol", "count": 1}],
            "meta": {"count": 1},
        }
        assert flow.counts("status", {"unassigned": "true", "exclude": {"status": ["new"]}})[
            "data"
        ] == [{"value": "open", "count": 1}]

    def test_counts_follow_changes_and_rollbacks(self, flow: Taskflow, made: None) -> None:
        case = flow.create({})
        assert flow.counts("status")["meta"]["count"] == 6
        flow.set_status(case["id"], "closed")
        assert {"value": "closed", "count": 2} in flow.counts("status")["data"]

    @pytest.mark.parametrize("by", [None, "data", "createdAt", ""])
    def test_an_unknown_grouping_is_400(self, flow: Taskflow, by: Any) -> None:
        with pytest.raises(InvalidRequest) as raised:
            flow.counts(by)
        assert list(raised.value.errors) == ["by"]

    def test_no_cases_no_groups(self, flow: Taskflow) -> None:
        assert flow.counts("status") == {"data": [], "meta": {"count": 0}}
