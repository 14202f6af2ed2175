"""Finding the work over HTTP (SPEC §13): ``GET /?q=...``, ranges, ``view=``, ``GET /_views``
and ``GET /_counts``, with their 400s, on every store."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import falcon.testing
import pytest

from taskflow_core import Forbidden, Taskflow
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import as_user, assert_json_error, create_case, snapshot

Client = falcon.testing.TestClient


def listed(client: Client, query: str, **headers: str) -> list[str]:
    result = client.simulate_get("/", query_string=query, headers=headers)
    assert result.status_code == 200, result.text
    assert result.json["meta"]["count"] == len(result.json["data"])
    return [case["id"] for case in result.json["data"]]


@pytest.fixture
def inbox(client: Client, flow: Taskflow) -> dict[str, str]:
    def mine(user: Any) -> dict[str, Any]:
        if user is None:
            raise Forbidden("Sign in to see your cases")
        return {"assignedTo": [user["profile"]["id"]]}

    flow.view("mine", mine, title="My cases")
    flow.view("waiting", {"unassigned": True, "status": ["submitted"]}, title="Waiting")
    flow.view("done", {"status": "closed"})
    made = {}
    for name, data, status, assignee in [
        ("licence", {"applicant": "Ada Lovelace", "kind": "licence"}, "submitted", None),
        ("permit", {"applicant": "Alan Turing", "kind": "permit"}, "submitted", "alice"),
        ("closed", {"applicant": "Grace Hopper", "kind": "licence"}, "closed", "alice"),
    ]:
        case = create_case(client, data)
        client.simulate_put(f"/{case['id']}/status", json={"status": status})
        if assignee:
            client.simulate_put(f"/{case['id']}/assign", json={"profileId": assignee})
        made[name] = case["id"]
    client.simulate_post(
        f"/{made['permit']}/comment", json={"comment": "Waiting on the fee"}, headers=as_user("bob")
    )
    return made


class TestListingParameters:
    def test_q_finds_cases_by_data_and_comments(
        self, client: Client, inbox: dict[str, str]
    ) -> None:
        assert listed(client, "q=lic") == [inbox["licence"], inbox["closed"]]
        assert listed(client, "q=lic%20ada") == [inbox["licence"]]
        assert listed(client, "q=fee+turing") == [inbox["permit"]]
        assert listed(client, "q=lic&status=closed") == [inbox["closed"]]

    def test_fts_and_tsquery_syntax_in_q_is_plain_text(
        self, client: Client, inbox: dict[str, str]
    ) -> None:
        for q in ['"ada"', "ada*", "-ada", "ada:*", "(ada)&!lovelace|", "ada'", "{ada}^ + lo"]:
            assert listed(client, "q=" + quote(q)) == [inbox["licence"]], q
        # NEAR, AND, OR, NOT are words like any other: none of these cases has them.
        assert listed(client, "q=" + quote("NEAR(ada lovelace)")) == []

    def test_unassigned_and_ranges(self, client: Client, inbox: dict[str, str]) -> None:
        assert listed(client, "unassigned=true") == [inbox["licence"]]
        assert listed(client, "createdAt[from]=2000-01-01&createdAt[to]=9999-01-01") == list(
            inbox.values()
        )
        assert listed(client, "updatedAt[to]=2000-01-01T00:00:00Z") == []
        # An unescaped "+" of an offset arrives as a space; it is read as the "+" it was.
        assert listed(client, "createdAt[from]=2000-01-01T10:00:00+01:00") == list(inbox.values())

    def test_view_is_anded_with_the_other_parameters(
        self, client: Client, inbox: dict[str, str]
    ) -> None:
        assert listed(client, "view=mine", **as_user("alice")) == [inbox["permit"], inbox["closed"]]
        assert listed(client, "view=mine&q=lic", **as_user("alice")) == [inbox["closed"]]
        assert listed(client, "view=waiting") == [inbox["licence"]]

    def test_a_view_that_refuses_the_anonymous_answers_403(
        self, client: Client, inbox: dict[str, str]
    ) -> None:
        assert_json_error(client.simulate_get("/", query_string="view=mine"), 403)

    @pytest.mark.parametrize(
        ("query", "name"),
        [
            ("view=nope", "view"),
            ("createdAt[from]=yesterday", "createdAt[from]"),
            ("createdAt[to]=2026-12-01T10:00:00", "createdAt[to]"),
            ("updatedAt[from]=2026-02-30", "updatedAt[from]"),
            ("updatedAt=2026-02-01", "updatedAt"),
            ("unassigned=maybe", "unassigned"),
            ("q=a&q=b", "q"),
            ("q=" + "x" * 10_000, "q"),
            ("q=" + "+".join(["word"] * 500), "q"),
        ],
    )
    def test_malformed_parameters_answer_400_naming_them(
        self, client: Client, inbox: dict[str, str], query: str, name: str
    ) -> None:
        before = snapshot(client)
        body = assert_json_error(client.simulate_get("/", query_string=query), 400)
        assert list(body["errors"]) == [name]
        assert snapshot(client) == before


class TestViewsAndCounts:
    def test_views_with_counts_for_the_requesting_user(
        self, client: Client, inbox: dict[str, str]
    ) -> None:
        result = client.simulate_get("/_views", headers=as_user("alice"))
        assert result.status_code == 200, result.text
        assert result.json == {
            "data": [
                {"name": "mine", "title": "My cases", "count": 2},
                {"name": "waiting", "title": "Waiting", "count": 1},
                {"name": "done", "title": "done", "count": 1},
            ]
        }
        assert client.simulate_get("/_views", headers=as_user("bob")).json["data"][0]["count"] == 0

    def test_counts_by_status_and_assignee_with_filters(
        self, client: Client, inbox: dict[str, str]
    ) -> None:
        result = client.simulate_get("/_counts", query_string="by=status")
        assert result.status_code == 200, result.text
        assert result.json == {
            "data": [{"value": "submitted", "count": 2}, {"value": "closed", "count": 1}],
            "meta": {"count": 3},
        }
        result = client.simulate_get("/_counts", query_string="by=assignedTo&q=licence")
        assert result.json == {
            "data": [{"value": "alice", "count": 1}, {"value": None, "count": 1}],
            "meta": {"count": 2},
        }
        result = client.simulate_get(
            "/_counts", query_string="by=status&view=mine", headers=as_user("alice")
        )
        assert result.json["meta"] == {"count": 2}

    @pytest.mark.parametrize("query", ["", "by=data", "by=status&by=assignedTo", "by="])
    def test_counts_without_a_known_grouping_answer_400(
        self, client: Client, inbox: dict[str, str], query: str
    ) -> None:
        body = assert_json_error(client.simulate_get("/_counts", query_string=query), 400)
        assert list(body["errors"]) == ["by"]

    def test_counts_refuse_a_malformed_filter(self, client: Client, inbox: dict[str, str]) -> None:
        body = assert_json_error(
            client.simulate_get("/_counts", query_string="by=status&createdAt[from]=x"), 400
        )
        assert body["errors"] == {"createdAt[from]": "invalid"}
