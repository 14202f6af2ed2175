"""Bad input answers a JSON 4xx with a clear message, and changes nothing."""

from __future__ import annotations

import io
from typing import Any

import falcon
import falcon.testing
import pytest

from taskflow_core import Taskflow
from taskflow_falcon import create_app
from taskflow_falcon.body import read_body
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import (
    as_user,
    assert_json_error,
    comment_id_of,
    create_case,
    path_for,
    snapshot,
)

Client = falcon.testing.TestClient

UNKNOWN_ID = "52db71c5-746a-4ac3-a210-d7f73f8379bd"  # fixed: parallel runs collect the same tests
MALFORMED_IDS = ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"]


# (method, path template, a valid body): every route that names a case.
CASE_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/{id}", None),
    ("PUT", "/{id}", {"data": {"x": 1}}),
    ("PUT", "/{id}/status", {"status": "open"}),
    ("PUT", "/{id}/assign", {"profileId": "bob"}),
    ("POST", "/{id}/comment", {"comment": "hello"}),
    ("POST", "/{id}/comments", {"comment": "hello"}),
    ("PUT", "/{id}/comment/{comment}", {"comment": "edited"}),
    ("DELETE", "/{id}/comment/{comment}", None),
]

# (method, path template): every route that takes a JSON object body.
BODY_ROUTES = [
    ("POST", "/"),
    ("PUT", "/{id}"),
    ("PUT", "/{id}/status"),
    ("PUT", "/{id}/assign"),
    ("POST", "/{id}/comment"),
    ("PUT", "/{id}/comment/{comment}"),
]


class TestUnknownIds:
    @pytest.mark.parametrize("case_id", [UNKNOWN_ID, *MALFORMED_IDS])
    @pytest.mark.parametrize(("method", "template", "body"), CASE_ROUTES)
    def test_unknown_or_malformed_case_id_is_404(
        self,
        client: Client,
        case: dict[str, Any],
        method: str,
        template: str,
        body: Any,
        case_id: str,
    ) -> None:
        before = snapshot(client)

        result = client.simulate_request(
            method, path_for(template, case, id=case_id), json=body, headers=as_user("alice")
        )

        assert_json_error(result, 404)
        assert snapshot(client) == before

    @pytest.mark.parametrize("comment_id", [UNKNOWN_ID, *MALFORMED_IDS])
    @pytest.mark.parametrize(("method", "body"), [("PUT", {"comment": "edited"}), ("DELETE", None)])
    def test_unknown_or_malformed_comment_id_is_404(
        self, client: Client, case: dict[str, Any], method: str, body: Any, comment_id: str
    ) -> None:
        before = snapshot(client)

        result = client.simulate_request(
            method, f"/{case['id']}/comment/{comment_id}", json=body, headers=as_user("alice")
        )

        assert_json_error(result, 404)
        assert snapshot(client) == before

    def test_an_entry_that_is_not_a_comment_is_not_a_comment_id(
        self, client: Client, case: dict[str, Any]
    ) -> None:
        create_entry = next(e["id"] for e in case["activityLog"] if e["eventName"] == "create")

        result = client.simulate_put(
            f"/{case['id']}/comment/{create_entry}",
            json={"comment": "x"},
            headers=as_user("alice"),
        )

        assert_json_error(result, 404)
        assert client.simulate_get(f"/{case['id']}").json["data"] == case

    def test_a_comment_of_another_case_is_404(self, client: Client, case: dict[str, Any]) -> None:
        other = create_case(client)
        before = snapshot(client)

        result = client.simulate_delete(
            f"/{other['id']}/comment/{comment_id_of(case)}", headers=as_user("alice")
        )

        assert_json_error(result, 404)
        assert snapshot(client) == before

    @pytest.mark.parametrize(("method", "body"), [("PUT", {"comment": "back"}), ("DELETE", None)])
    def test_a_deleted_comment_is_404(
        self, client: Client, case: dict[str, Any], method: str, body: Any
    ) -> None:
        path = f"/{case['id']}/comment/{comment_id_of(case)}"
        client.simulate_delete(path, headers=as_user("alice"))
        before = snapshot(client)

        result = client.simulate_request(method, path, json=body, headers=as_user("alice"))

        assert_json_error(result, 404)
        assert snapshot(client) == before


class TestBodies:
    @pytest.mark.parametrize(
        ("raw", "what"),
        [
            (b"", "missing"),
            (b"   ", "missing"),
            (b"{not json", "not JSON"),
            (b'{"a": NaN}', "not JSON"),
            (b"\xff\xfe\x00", "not UTF-8"),
            (b"[1, 2]", "an array"),
            (b'"text"', "a string"),
            (b"null", "null"),
            (b"42", "a number"),
        ],
    )
    @pytest.mark.parametrize(("method", "template"), BODY_ROUTES)
    def test_body_that_is_not_a_json_object_is_400(
        self,
        client: Client,
        case: dict[str, Any],
        method: str,
        template: str,
        raw: bytes,
        what: str,
    ) -> None:
        if (method, template, what) == ("POST", "/", "missing"):
            pytest.skip("an empty POST / creates an empty case, as the original")
        before = snapshot(client)

        result = client.simulate_request(
            method,
            path_for(template, case),
            body=raw,
            headers={"Content-Type": "application/json", **as_user("alice")},
        )

        assert_json_error(result, 400)
        assert snapshot(client) == before

    @pytest.mark.parametrize(
        ("method", "template", "body", "field"),
        [
            ("PUT", "/{id}", {"data": [1]}, "data"),
            ("PUT", "/{id}", {"data": "x"}, "data"),
            ("PUT", "/{id}/status", {}, "status"),
            ("PUT", "/{id}/status", {"status": ""}, "status"),
            ("PUT", "/{id}/status", {"status": None}, "status"),
            ("PUT", "/{id}/status", {"status": "Open"}, "status"),
            ("PUT", "/{id}/status", {"status": "in review"}, "status"),
            ("PUT", "/{id}/status", {"status": "v2"}, "status"),
            ("PUT", "/{id}/status", {"status": 5}, "status"),
            ("PUT", "/{id}/status", {"status": ["open"]}, "status"),
            ("PUT", "/{id}/assign", {"profileId": 5}, "profileId"),
            ("PUT", "/{id}/assign", {"profileId": {"id": "x"}}, "profileId"),
            ("POST", "/{id}/comment", {}, "comment"),
            ("POST", "/{id}/comment", {"comment": ""}, "comment"),
            ("POST", "/{id}/comment", {"comment": "   "}, "comment"),
            ("POST", "/{id}/comment", {"comment": None}, "comment"),
            ("POST", "/{id}/comment", {"comment": 5}, "comment"),
            ("POST", "/{id}/comments", {"comment": ["x"]}, "comment"),
            ("PUT", "/{id}/comment/{comment}", {}, "comment"),
            ("PUT", "/{id}/comment/{comment}", {"comment": ""}, "comment"),
            ("PUT", "/{id}/comment/{comment}", {"comment": 5}, "comment"),
        ],
    )
    def test_missing_or_malformed_field_is_400_naming_it(
        self,
        client: Client,
        case: dict[str, Any],
        method: str,
        template: str,
        body: Any,
        field: str,
    ) -> None:
        before = snapshot(client)

        result = client.simulate_request(
            method, path_for(template, case), json=body, headers=as_user("alice")
        )

        error = assert_json_error(result, 400)
        assert field in error["message"] or field in (error.get("errors") or {})
        assert snapshot(client) == before


class TestBodySizeLimit:
    @pytest.fixture
    def small_client(self, flow: Taskflow) -> Client:
        return falcon.testing.TestClient(create_app(flow, max_body_size=64))

    def test_body_over_a_configured_limit_is_413(self, small_client: Client) -> None:
        result = small_client.simulate_post("/", json={"text": "x" * 100})

        assert_json_error(result, 413)
        assert small_client.simulate_get("/").json["meta"]["count"] == 0

    def test_body_at_the_configured_limit_is_accepted(self, small_client: Client) -> None:
        body = b'{"text": "' + b"x" * 52 + b'"}'
        assert len(body) == 64

        assert small_client.simulate_post("/", body=body).status_code == 200

    def test_default_limit_is_one_mebibyte(self, client: Client) -> None:
        envelope = len(b'{"text": ""}')
        at_limit = b'{"text": "' + b"x" * (1024 * 1024 - envelope) + b'"}'

        assert client.simulate_post("/", body=at_limit).status_code == 200
        over = at_limit[:-2] + b'x"}'
        assert_json_error(client.simulate_post("/", body=over), 413)
        assert client.simulate_get("/").json["meta"]["count"] == 1

    def test_a_huge_declared_length_is_refused_before_reading(self, flow: Taskflow) -> None:
        class Untouchable(io.BytesIO):
            def read(self, size: int | None = -1, /) -> bytes:
                raise AssertionError("the body was read")

        env = falcon.testing.create_environ(
            method="POST", path="/", headers={"Content-Length": str(10**9)}
        )
        env["wsgi.input"] = Untouchable()
        req = falcon.Request(env)

        with pytest.raises(falcon.HTTPContentTooLarge):
            read_body(req, 1024)

    def test_a_chunked_body_without_length_is_still_bounded(self) -> None:
        env = falcon.testing.create_environ(method="POST", path="/", body=b"x" * 100)
        del env["CONTENT_LENGTH"]
        env["wsgi.input_terminated"] = True
        req = falcon.Request(env)

        with pytest.raises(falcon.HTTPContentTooLarge):
            read_body(req, 50)

    def test_a_chunked_body_within_the_limit_is_read_whole(self) -> None:
        env = falcon.testing.create_environ(method="POST", path="/", body=b'{"a": 1}')
        del env["CONTENT_LENGTH"]
        env["wsgi.input_terminated"] = True

        assert read_body(falcon.Request(env), 50) == b'{"a": 1}'
