"""What a client of the original Node.js taskflow sees the same over HTTP, and PATCH."""

from __future__ import annotations

from typing import Any

import falcon.testing
import pytest

from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import as_user, assert_json_error, create_case, snapshot
from tests.stores import store  # noqa: F401 (every store: these answers depend on it)

Client = falcon.testing.TestClient


class TestAnswers:
    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("GET", "/{id}", None),
            ("PUT", "/{id}", {"data": {"x": 1}}),
            ("PUT", "/{id}/status", {"status": "open"}),
            ("PUT", "/{id}/assign", {"profileId": "bob"}),
            ("POST", "/{id}/comment", {"comment": "hi"}),
        ],
    )
    def test_a_single_case_answer_is_data_alone_without_meta(
        self, client: Client, method: str, path: str, body: dict[str, Any] | None
    ) -> None:
        case = create_case(client)
        result = client.simulate_request(method, path.format(id=case["id"]), json=body)
        assert result.status_code == 200, result.text
        assert set(result.json) == {"data"}

    def test_a_listing_still_has_its_meta_count(self, client: Client) -> None:
        create_case(client)
        assert client.simulate_get("/").json["meta"] == {"count": 1}


class TestLenientBodies:
    def test_an_empty_post_creates_a_case_with_empty_data(self, client: Client) -> None:
        result = client.simulate_post("/", body=b"", headers={"Content-Type": "application/json"})
        assert result.status_code == 200, result.text
        assert result.json["data"]["data"] == {}
        assert client.simulate_get("/").json["meta"]["count"] == 1

    @pytest.mark.parametrize("body", [{}, {"data": None}, {"meta": {"comment": "a note"}}])
    def test_a_put_without_data_merges_nothing_and_is_logged(
        self, client: Client, body: dict[str, Any]
    ) -> None:
        case = create_case(client, {"a": 1})
        result = client.simulate_put(f"/{case['id']}", json=body, headers=as_user("alice"))
        assert result.status_code == 200, result.text
        updated = result.json["data"]
        assert updated["data"] == {"a": 1}
        assert [e["eventName"] for e in updated["activityLog"]] == ["update", "create"]
        expected_note = body.get("meta", {}).get("comment")
        assert updated["activityLog"][0]["comment"] == expected_note

    def test_an_assign_with_an_empty_body_keeps_the_assignee_and_logs_it(
        self, client: Client
    ) -> None:
        case = create_case(client)
        client.simulate_put(f"/{case['id']}/assign", json={"profileId": "bob"})
        result = client.simulate_put(f"/{case['id']}/assign", json={})
        assert result.status_code == 200, result.text
        assert result.json["data"]["assignedTo"] == "bob"
        assert [e["eventName"] for e in result.json["data"]["activityLog"]][:2] == [
            "assign",
            "assign",
        ]

    def test_a_put_merges_arrays_index_by_index(self, client: Client) -> None:
        case = create_case(client, {"t": [1, 2, 3]})
        result = client.simulate_put(f"/{case['id']}", json={"data": {"t": [9]}})
        assert result.json["data"]["data"] == {"t": [9, 2, 3]}


class TestPatch:
    @pytest.mark.parametrize("content_type", ["application/merge-patch+json", "application/json"])
    def test_patch_applies_a_json_merge_patch(self, client: Client, content_type: str) -> None:
        case = create_case(client, {"a": {"b": 1, "c": 2}, "t": [1, 2, 3]})
        result = client.simulate_patch(
            f"/{case['id']}",
            body=b'{"a": {"b": null}, "t": [7]}',
            headers={"Content-Type": content_type, **as_user("alice")},
        )
        assert result.status_code == 200, result.text
        patched = result.json["data"]
        assert patched["data"] == {"a": {"c": 2}, "t": [7]}
        assert patched["activityLog"][0]["eventName"] == "update"
        assert patched["activityLog"][0]["changedBy"] == "alice"
        assert set(result.json) == {"data"}

    @pytest.mark.parametrize("content_type", ["text/plain", "application/xml", None])
    def test_patch_with_another_content_type_is_415_and_changes_nothing(
        self, client: Client, content_type: str | None
    ) -> None:
        case = create_case(client, {"a": 1})
        before = snapshot(client)
        headers = {"Content-Type": content_type} if content_type else {}
        result = client.simulate_patch(f"/{case['id']}", body=b'{"a": null}', headers=headers)
        assert_json_error(result, 415)
        assert snapshot(client) == before

    @pytest.mark.parametrize("body", [b"[1]", b'"x"', b"null", b"{bad"])
    def test_a_patch_that_is_not_an_object_is_400(self, client: Client, body: bytes) -> None:
        case = create_case(client, {"a": 1})
        before = snapshot(client)
        result = client.simulate_patch(
            f"/{case['id']}", body=body, headers={"Content-Type": "application/json"}
        )
        assert_json_error(result, 400)
        assert snapshot(client) == before

    def test_patch_of_an_unknown_case_is_404(self, client: Client) -> None:
        result = client.simulate_patch(
            "/00000000-0000-4000-8000-000000000000",
            json={"a": 1},
        )
        assert_json_error(result, 404)
