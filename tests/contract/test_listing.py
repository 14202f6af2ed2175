"""Listing: filters, JSON containment, exclusions, sorting with id tie-breaks, pages, count,
and listings read within a budget."""

import json
from typing import Any

import pytest

from taskflow_core import InvalidRequest, Taskflow
from taskflow_core.application.listing import Listing


def ids(body: dict[str, Any]) -> list[str]:
    return [c["id"] for c in body["data"]]


@pytest.fixture
def cases(flow: Taskflow) -> list[dict[str, Any]]:
    """Five cases created in order, with varied status, assignee and data."""
    specs: list[tuple[str, str | None, dict[str, Any]]] = [
        ("new", None, {"subject": "dog", "meta": {"kind": "pil", "n": "1"}}),
        ("open", "bob", {"subject": "cat", "meta": {"kind": "ppl"}}),
        ("open", "carol", {"subject": "dog", "tags": ["a", "b"]}),
        ("closed", "bob", {"subject": "eel", "meta": {"kind": "pil"}}),
        ("rejected", None, {"subject": "dog", "n": 1}),
    ]
    made = []
    for status, assignee, data in specs:
        case = flow.create(data)
        if status != "new":
            flow.set_status(case["id"], status)
        if assignee:
            flow.assign(case["id"], assignee)
        made.append(flow.get(case["id"]))
    return made


class TestFilters:
    def test_without_filters_lists_all_in_creation_order(
        self, flow: Taskflow, cases: list[dict[str, Any]]
    ) -> None:
        body = flow.list()
        assert ids(body) == [c["id"] for c in cases]
        assert body["meta"] == {"count": 5}
        assert "activityLog" not in body["data"][0]
        assert body["data"][0] == {k: v for k, v in cases[0].items() if k != "activityLog"}

    def test_any_of_several_statuses(self, flow: Taskflow, cases: list[dict[str, Any]]) -> None:
        body = flow.list({"status": ["open", "closed"]})
        assert ids(body) == [cases[1]["id"], cases[2]["id"], cases[3]["id"]]
        assert flow.list({"status": "new"})["meta"]["count"] == 1

    def test_json_containment_nested_and_string_valued(
        self, flow: Taskflow, cases: list[dict[str, Any]]
    ) -> None:
        assert ids(flow.list({"data": {"subject": "dog"}})) == [
            cases[0]["id"],
            cases[2]["id"],
            cases[4]["id"],
        ]
        assert ids(flow.list({"data": {"meta": {"kind": "pil"}}})) == [
            cases[0]["id"],
            cases[3]["id"],
        ]
        assert ids(flow.list({"data": {"subject": "dog", "meta": {"n": "1"}}})) == [cases[0]["id"]]

    def test_containment_compares_json_types(
        self, flow: Taskflow, cases: list[dict[str, Any]]
    ) -> None:
        assert ids(flow.list({"data": {"n": 1}})) == [cases[4]["id"]]
        assert ids(flow.list({"data": {"n": "1"}})) == []
        assert ids(flow.list({"data": {"tags": ["b"]}})) == [cases[2]["id"]]

    def test_exclusions_and_null_assignee_never_excluded(
        self, flow: Taskflow, cases: list[dict[str, Any]]
    ) -> None:
        body = flow.list({"exclude": {"status": ["closed", "rejected"], "assignedTo": ["bob"]}})
        assert ids(body) == [cases[0]["id"], cases[2]["id"]]
        assert body["meta"]["count"] == 2

    def test_assigned_to_any_of(self, flow: Taskflow, cases: list[dict[str, Any]]) -> None:
        body = flow.list({"assignedTo": ["bob", "carol"]})
        assert ids(body) == [cases[1]["id"], cases[2]["id"], cases[3]["id"]]

    def test_filters_combine(self, flow: Taskflow, cases: list[dict[str, Any]]) -> None:
        body = flow.list({"status": "open", "data": {"subject": "dog"}, "assignedTo": "carol"})
        assert ids(body) == [cases[2]["id"]]


class TestSortingAndPages:
    def test_named_column_sorts_descending_by_default(
        self, flow: Taskflow, cases: list[dict[str, Any]]
    ) -> None:
        body = flow.list({"sort": {"column": "createdAt"}})
        assert ids(body) == [c["id"] for c in reversed(cases)]

    @pytest.mark.parametrize("column", ["createdAt", "updatedAt", "status", "assignedTo", "id"])
    @pytest.mark.parametrize("ascending", [True, False])
    def test_sort_matches_the_documented_order(
        self, flow: Taskflow, cases: list[dict[str, Any]], column: str, ascending: bool
    ) -> None:
        def key(case: dict[str, Any]) -> tuple[bool, str, str]:
            value = case[column]
            # NULL sorts above every value, as PostgreSQL does by default.
            return (value is None, value or "", case["id"])

        expected = sorted(cases, key=key, reverse=not ascending)
        body = flow.list(
            {"sort": {"column": column, "ascending": "true" if ascending else "false"}}
        )
        assert ids(body) == [c["id"] for c in expected]

    def test_ties_break_by_id_so_pages_never_overlap(self, flow: Taskflow) -> None:
        for _ in range(7):
            flow.create({"same": True})
        seen: list[str] = []
        for offset in range(0, 7, 3):
            page = flow.list({"sort": {"column": "status"}, "limit": 3, "offset": offset})
            assert page["meta"]["count"] == 7
            seen += ids(page)
        assert len(seen) == len(set(seen)) == 7
        assert seen == sorted(seen, reverse=True)

    def test_limit_and_offset_page_through_with_a_full_count(
        self, flow: Taskflow, cases: list[dict[str, Any]]
    ) -> None:
        body = flow.list({"limit": "2", "offset": "1"})
        assert ids(body) == [cases[1]["id"], cases[2]["id"]]
        assert body["meta"]["count"] == 5
        past_end = flow.list({"offset": 10})
        assert past_end == {"data": [], "meta": {"count": 5}}

    def test_default_limit_is_one_hundred(self, flow: Taskflow) -> None:
        for _ in range(101):
            flow.create({})
        body = flow.list()
        assert len(body["data"]) == 100
        assert body["meta"]["count"] == 101


class TestBadQueries:
    @pytest.mark.parametrize(
        ("query", "parameter"),
        [
            ({"sort": {"column": "data"}}, "sort[column]"),
            ({"sort": {"column": "id", "ascending": "maybe"}}, "sort[ascending]"),
            ({"exclude": {"data": ["x"]}}, 'exclude["data"]'),
            ({"limit": "ten"}, "limit"),
            ({"limit": 1001}, "limit"),
            ({"limit": -1}, "limit"),
            ({"offset": "-3"}, "offset"),
            ({"offset": "1.5"}, "offset"),
            ({"status": [1]}, "status"),
            ({"data": "subject"}, "data"),
        ],
    )
    def test_unknown_or_malformed_values_are_refused_naming_the_parameter(
        self, flow: Taskflow, query: dict[str, Any], parameter: str
    ) -> None:
        with pytest.raises(InvalidRequest) as raised:
            flow.list(query)
        assert parameter in raised.value.message


def listed(listing: Listing) -> dict[str, Any]:
    """A listing as the body it is sent as."""
    cases = [json.loads(case) for case in [*listing.first, *listing.rest]]
    return {"data": cases, "meta": {"count": listing.count}}


class TestListingWithinABudget:
    """``flow.listing``: what the HTTP listing sends case by case, reading no more case data
    at once than its budget (bytes of JSON text)."""

    @pytest.fixture
    def big(self, flow: Taskflow) -> list[dict[str, Any]]:
        """Seven cases of about 1 kB of data each, with some variety to filter and sort on."""
        made = []
        for n in range(7):
            case = flow.create({"n": n, "odd": n % 2 == 1, "text": "é" * 500})
            made.append(flow.set_status(case["id"], "open") if n % 3 else case)
        return made

    @pytest.mark.parametrize(
        "query",
        [
            {},
            {"sort": {"column": "createdAt"}},
            {"status": "open", "sort": {"column": "status", "ascending": "true"}},
            {"data": {"odd": False}, "limit": 3},
            {"limit": 4, "offset": 2},
        ],
    )
    def test_past_its_budget_a_listing_yields_the_page_in_order_with_data_and_count(
        self, flow: Taskflow, big: list[dict[str, Any]], query: dict[str, Any]
    ) -> None:
        listing = flow.listing(query, budget=2500)
        assert listing.deferred  # at most two of these cases fit
        assert len(listing.first) <= 2
        assert listed(listing) == flow.list(query)

    def test_a_case_bigger_than_the_budget_is_read_on_its_own(
        self, flow: Taskflow, big: list[dict[str, Any]]
    ) -> None:
        listing = flow.listing(budget=1)
        assert len(listing.first) == 1
        assert listed(listing) == flow.list()

    def test_within_its_budget_the_whole_page_is_read_at_once(
        self, flow: Taskflow, big: list[dict[str, Any]]
    ) -> None:
        listing = flow.listing({"limit": 5})
        assert not listing.deferred
        assert listed(listing) == flow.list({"limit": 5})
        assert list(listing.rest) == []

    def test_an_empty_page_still_counts(self, flow: Taskflow, big: list[dict[str, Any]]) -> None:
        listing = flow.listing({"offset": 10}, budget=1)
        assert (listing.count, listing.first, listing.deferred) == (7, [], False)

    def test_decorators_for_lists_run_on_every_case(
        self, flow: Taskflow, big: list[dict[str, Any]]
    ) -> None:
        flow.decorate(lambda case, user: {**case, "seen": user}, list=True)
        flow.decorate(lambda case, user: {**case, "single": True}, list=False)
        body = listed(flow.listing(user="ann", budget=2500))
        assert [case["seen"] for case in body["data"]] == ["ann"] * 7
        assert not any("single" in case for case in body["data"])

    def test_a_case_changed_after_the_page_was_read_is_sent_as_it_is_then(
        self, flow: Taskflow, big: list[dict[str, Any]]
    ) -> None:
        listing = flow.listing(budget=2500)
        last = big[-1]["id"]
        flow.update(last, {"n": "changed"})
        body = listed(listing)
        # In the place the page gave it, with its change: the latest, not the page's snapshot.
        assert [case["id"] for case in body["data"]] == [case["id"] for case in big]
        assert body["data"][-1]["data"]["n"] == "changed"
