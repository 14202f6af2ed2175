"""``GET /``: the original's bracket query syntax, filters, sorting and paging over HTTP."""

from __future__ import annotations

from typing import Any

import falcon.testing
import pytest

import taskflow_core.application.query
from taskflow_core import InvalidRequest, Taskflow
from taskflow_core.domain.wire import encode_json
from taskflow_falcon.listing import list_query_from_string, split_key
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import assert_json_error, create_case, snapshot
from tests.stores import store  # noqa: F401 (every store: these answers depend on it)

Client = falcon.testing.TestClient


class TestQueryStringParsing:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("", {}),
            ("status=open", {"status": "open"}),
            ("status=open&status=closed", {"status": ["open", "closed"]}),
            ("status[]=open&status[]=closed", {"status": ["open", "closed"]}),
            ("status%5B0%5D=open&status%5B1%5D=closed", {"status": ["open", "closed"]}),
            ("status[]=open", {"status": ["open"]}),
            ("data[model]=pil", {"data": {"model": "pil"}}),
            ("data[a][b]=x&data[a][c]=y", {"data": {"a": {"b": "x", "c": "y"}}}),
            ("data[tags][]=red", {"data": {"tags": ["red"]}}),
            ("data[name]=Smith,%20J", {"data": {"name": "Smith, J"}}),
            ("data[name]=a+b", {"data": {"name": "a b"}}),
            ("exclude[status]=x&exclude[status]=y", {"exclude": {"status": ["x", "y"]}}),
            ("exclude[assignedTo]=bob", {"exclude": {"assignedTo": "bob"}}),
            ("assignedTo=a&assignedTo=b", {"assignedTo": ["a", "b"]}),
            (
                "sort[column]=status&sort[ascending]=true",
                {"sort": {"column": "status", "ascending": "true"}},
            ),
            ("limit=5&offset=10", {"limit": "5", "offset": "10"}),
            ("limit=", {"limit": ""}),
        ],
    )
    def test_bracket_syntax_becomes_the_listing_mapping(
        self, query: str, expected: dict[str, Any]
    ) -> None:
        assert list_query_from_string(query) == expected

    @pytest.mark.parametrize("query", ["data=x&data[a]=y", "data[a]=y&data=x"])
    def test_a_key_both_value_and_object_is_refused(self, query: str) -> None:
        with pytest.raises(InvalidRequest, match="data"):
            list_query_from_string(query)

    @pytest.mark.parametrize(
        ("key", "parts"),
        [
            ("status", ["status"]),
            ("data[a][b]", ["data", "a", "b"]),
            ("sort[column]", ["sort", "column"]),
            ("data[a", ["data[a"]),
            ("data[a]x", ["data[a]x"]),
            ("[a]", ["[a]"]),
        ],
    )
    def test_keys_split_at_brackets_and_stray_brackets_stay_whole(
        self, key: str, parts: list[str]
    ) -> None:
        assert split_key(key) == parts


@pytest.fixture
def cases(client: Client) -> dict[str, dict[str, Any]]:
    """Five cases made in this order, with statuses, assignees and nested data."""
    made = {}
    rows: list[tuple[str, str, str | None, dict[str, Any]]] = [
        ("a", "open", "bob", {"model": "pil", "org": {"id": "1"}}),
        ("b", "closed", None, {"model": "pil", "org": {"id": "2"}}),
        ("c", "open", "carol", {"model": "ppl", "org": {"id": "1"}}),
        ("d", "review", "bob", {"model": "pel"}),
        ("e", "new", None, {"model": "pil", "author": "Smith, J"}),
    ]
    for name, status, assignee, data in rows:
        case = create_case(client, {"name": name, **data})
        if status != "new":
            client.simulate_put(f"/{case['id']}/status", json={"status": status})
        if assignee:
            client.simulate_put(f"/{case['id']}/assign", json={"profileId": assignee})
        made[name] = case
    return made


def names(result: falcon.testing.Result) -> list[str]:
    assert result.status_code == 200, result.text
    return [case["data"]["name"] for case in result.json["data"]]


class TestFilters:
    def test_without_parameters_lists_every_case_oldest_first_with_a_count(
        self, client: Client, cases: dict[str, Any]
    ) -> None:
        result = client.simulate_get("/")

        assert names(result) == ["a", "b", "c", "d", "e"]
        assert result.json["meta"] == {"count": 5}
        assert all("activityLog" not in case for case in result.json["data"])

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("status=open", ["a", "c"]),
            ("status=open&status=review", ["a", "c", "d"]),
            ("status[]=open&status[]=review", ["a", "c", "d"]),
            ("data[model]=pil", ["a", "b", "e"]),
            ("data[org][id]=1", ["a", "c"]),
            ("data[model]=pil&data[org][id]=1", ["a"]),
            ("data[author]=Smith,%20J", ["e"]),
            ("exclude[status]=open", ["b", "d", "e"]),
            ("exclude[status]=open&exclude[status]=new", ["b", "d"]),
            ("exclude[assignedTo]=bob", ["b", "c", "e"]),
            ("assignedTo=bob", ["a", "d"]),
            ("assignedTo=bob&assignedTo=carol", ["a", "c", "d"]),
            ("status=open&exclude[assignedTo]=bob", ["c"]),
            ("status=nothing", []),
        ],
    )
    def test_filters_select_the_matching_cases(
        self, client: Client, cases: dict[str, Any], query: str, expected: list[str]
    ) -> None:
        result = client.simulate_get("/", query_string=query)

        assert names(result) == expected
        assert result.json["meta"]["count"] == len(expected)


class TestSortingAndPaging:
    def test_a_sort_column_alone_sorts_descending(
        self, client: Client, cases: dict[str, Any]
    ) -> None:
        result = client.simulate_get("/", query_string="sort[column]=createdAt")

        assert names(result) == ["e", "d", "c", "b", "a"]

    def test_sort_ascending_true_sorts_ascending(
        self, client: Client, cases: dict[str, Any]
    ) -> None:
        result = client.simulate_get(
            "/", query_string="sort[column]=status&sort[ascending]=true&status=open&status=review"
        )

        statuses = [case["status"] for case in result.json["data"]]
        assert statuses == ["open", "open", "review"]

    def test_limit_and_offset_page_through_with_the_full_count(
        self, client: Client, cases: dict[str, Any]
    ) -> None:
        pages = [
            client.simulate_get("/", query_string=f"limit=2&offset={offset}")
            for offset in (0, 2, 4)
        ]

        assert [names(page) for page in pages] == [["a", "b"], ["c", "d"], ["e"]]
        assert {page.json["meta"]["count"] for page in pages} == {5}

    def test_a_limit_of_zero_still_counts(self, client: Client, cases: dict[str, Any]) -> None:
        result = client.simulate_get("/", query_string="limit=0")

        assert result.json == {"data": [], "meta": {"count": 5}}


class TestBadParameters:
    @pytest.mark.parametrize(
        ("query", "parameter"),
        [
            ("sort[column]=name", "sort[column]"),
            ("sort[column]=", "sort[column]"),
            ("sort[column]=status&sort[ascending]=maybe", "sort[ascending]"),
            ("exclude[model]=x", 'exclude["model"]'),
            ("limit=ten", "limit"),
            ("limit=", "limit"),
            ("limit=1.5", "limit"),
            ("limit=1001", "limit"),
            ("limit=-1", "limit"),
            ("limit=1&limit=2", "limit"),
            ("offset=-1", "offset"),
            ("offset=x", "offset"),
            ("data=x", "data"),
            ("exclude=x", "exclude"),
            ("sort=x", "sort"),
            ("status[a]=x", "status"),
        ],
    )
    def test_bad_value_is_400_naming_the_parameter(
        self, client: Client, cases: dict[str, Any], query: str, parameter: str
    ) -> None:
        before = snapshot(client)

        result = client.simulate_get("/", query_string=query)

        assert result.status_code == 400, result.text
        assert parameter in result.json["message"]
        assert snapshot(client) == before

    def test_limit_at_the_maximum_is_accepted(self, client: Client) -> None:
        assert client.simulate_get("/", query_string="limit=1000").status_code == 200


class TestListingsPastTheBudget:
    """A page with more case data than the budget is streamed case by case; the client gets
    the same bytes as for one encoded whole (docs/http.md, "Big listings")."""

    @pytest.fixture(autouse=True)
    def small_budget(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(taskflow_core.application.query, "LISTING_BUDGET", 2500)

    @pytest.fixture
    def big(self, flow: Taskflow) -> None:
        for n in range(6):
            flow.create({"n": n, "text": "é" * 500, "float": 0.1 * n})

    @pytest.mark.parametrize(
        "query", ["", "?limit=5&offset=1", "?sort[column]=createdAt", "?limit=2", "?offset=9"]
    )
    def test_the_body_is_byte_for_byte_the_encoded_listing(
        self, client: Client, flow: Taskflow, big: None, query: str
    ) -> None:
        result = client.simulate_get("/" + query)
        assert result.status_code == 200
        assert result.headers["content-type"] == "application/json; charset=utf-8"
        expected = encode_json(flow.list(list_query_from_string(query.lstrip("?"))))
        assert result.content == expected.encode()

    def test_only_a_page_past_the_budget_is_streamed(self, client: Client, big: None) -> None:
        # A sent length is what an answer held whole has; a streamed one has none.
        assert "content-length" in client.simulate_get("/?limit=2").headers
        assert "content-length" not in client.simulate_get("/?limit=3").headers

    def test_a_failure_before_the_first_byte_is_still_a_json_500(
        self, client: Client, flow: Taskflow, big: None
    ) -> None:
        flow.decorate(lambda case, user: {**case, "bad": {1, 2}})
        assert_json_error(client.simulate_get("/"), 500)

    def test_a_failure_after_the_first_byte_cuts_the_answer_short_and_is_logged(
        self, client: Client, flow: Taskflow, big: None, caplog: pytest.LogCaptureFixture
    ) -> None:
        def fail_on_the_last(case: dict[str, Any], user: Any) -> dict[str, Any]:
            if case["data"]["n"] == 5:
                raise RuntimeError("decorator broke")
            return case

        flow.decorate(fail_on_the_last)
        # The WSGI server sees the error mid-body, and closes the connection.
        with pytest.raises(RuntimeError, match="decorator broke"):
            client.simulate_get("/")
        assert "a listing failed after it began to be sent" in caplog.text
