"""Listing: filters, JSON containment, exclusions, sorting with id tie-breaks, pages, count."""

from typing import Any

import pytest

from taskflow_core import InvalidRequest, Taskflow


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
