"""ANDing a listing's query with a view's or a scope's (taskflow_core/application/query.py):
the filters of one that selects every case, or of statuses alone, move in; others nest."""

from __future__ import annotations

from taskflow_core.application.query import parse_list_query, restricted


def test_a_view_of_statuses_alone_is_a_query_by_statuses_alone() -> None:
    request = parse_list_query({"limit": "5", "sort": {"column": "updatedAt"}})
    view = parse_list_query({"status": ["new", "open"], "limit": "50"})
    both = restricted(request, view)
    assert both.statuses == ("new", "open")
    assert both.by_status_alone
    assert not both.also
    assert (both.limit, both.sort_column, both.ascending) == (5, "updatedAt", False)


def test_statuses_move_in_beside_the_requests_other_filters() -> None:
    both = restricted(parse_list_query({"q": "smith"}), parse_list_query({"status": "new"}))
    assert (both.search, both.statuses, both.also) == (("smith",), ("new",), ())


def test_a_query_of_every_case_adds_nothing() -> None:
    request = parse_list_query({"status": "new", "data": {"type": "a"}})
    assert restricted(request, parse_list_query({"limit": "3"})) == request


def test_filters_that_could_conflict_nest() -> None:
    request = parse_list_query({"status": "new"})
    view = parse_list_query({"status": "open"})
    both = restricted(request, view)
    # Both must hold: no case is both new and open; merged, either would be lost.
    assert (both.statuses, both.also) == (("new",), (view,))
    data = restricted(
        parse_list_query({"data": {"a": "1"}}), parse_list_query({"data": {"a": "2"}})
    )
    assert data.data == {"a": "1"}
    assert data.also[0].data == {"a": "2"}


def test_a_request_of_every_case_takes_the_views_filters_and_keeps_its_page() -> None:
    view = parse_list_query({"data": {"type": "a"}, "assignedTo": "ada", "q": "lic"})
    both = restricted(parse_list_query({"offset": "10"}), view)
    assert (both.data, both.assigned_to, both.search) == ({"type": "a"}, ("ada",), ("lic",))
    assert (both.offset, both.also) == (10, ())
