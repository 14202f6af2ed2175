"""Input an attacker sent: each answered with a clear 400 or 404, never a 500, changing
nothing, on every store."""

from __future__ import annotations

from typing import Any

import falcon.testing
import pytest

from taskflow_core import InvalidRequest, Taskflow
from taskflow_core.domain.validation import MAX_DEPTH
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import as_user, assert_json_error, create_case, snapshot
from tests.stores import store  # noqa: F401 (every store: these answers depend on it)

Client = falcon.testing.TestClient


def nested_text(depth: int, key: str = "a") -> bytes:
    """The JSON text of ``nested(depth)``, written out: encoding it with json would recurse."""
    return (f'{{"{key}": ' * (depth - 1) + "{}" + "}" * (depth - 1)).encode()


def nested(depth: int) -> dict[str, Any]:
    """An object ``depth`` levels deep: ``{"a": {"a": ... {} }}``."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


class TestTrailingNewlines:
    @pytest.mark.parametrize("status", ["approved\n", "approved\r\n", "\napproved", "approved "])
    def test_a_status_with_a_line_break_or_space_is_400(self, client: Client, status: str) -> None:
        case = create_case(client)
        before = snapshot(client)
        result = client.simulate_put(f"/{case['id']}/status", json={"status": status})
        assert_json_error(result, 400)
        assert snapshot(client) == before

    def test_from_python_too(self, flow: Taskflow) -> None:
        case = flow.create({})
        with pytest.raises(InvalidRequest):
            flow.set_status(case["id"], "approved\n")

    def test_a_hook_pattern_with_a_trailing_newline_is_refused(self, flow: Taskflow) -> None:
        with pytest.raises(ValueError, match="malformed part"):
            flow.hook("status:*:approved\n", lambda event: None)


class TestIdSpellings:
    @pytest.mark.parametrize(
        "spelling",
        [
            "{%s}",
            "urn:uuid:%s",
            "%s\n",
            " %s",
        ],
    )
    def test_another_spelling_of_a_case_id_is_404(self, client: Client, spelling: str) -> None:
        case = create_case(client)
        path = "/" + (spelling % case["id"]).replace("\n", "%0A").replace(" ", "%20")
        assert_json_error(client.simulate_get(path), 404)

    def test_an_id_without_hyphens_is_404(self, client: Client) -> None:
        case = create_case(client)
        assert_json_error(client.simulate_get("/" + case["id"].replace("-", "")), 404)


class TestNesting:
    def test_data_at_the_documented_depth_is_stored(self, client: Client) -> None:
        result = client.simulate_post("/", json=nested(MAX_DEPTH))
        assert result.status_code == 200, result.text
        case = result.json["data"]
        updated = client.simulate_put(f"/{case['id']}", json={"data": nested(MAX_DEPTH)})
        assert updated.status_code == 200, updated.text

    @pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 974, 990])
    def test_data_nested_deeper_is_400_on_create(self, client: Client, depth: int) -> None:
        before = snapshot(client)
        result = client.simulate_post("/", body=nested_text(depth))
        body = assert_json_error(result, 400)
        assert "nested too deeply" in body["message"]
        assert snapshot(client) == before

    @pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 974])
    def test_data_nested_deeper_is_400_on_update(self, client: Client, depth: int) -> None:
        case = create_case(client)
        before = snapshot(client)
        body = b'{"data": ' + nested_text(depth) + b"}"
        assert_json_error(client.simulate_put(f"/{case['id']}", body=body), 400)
        assert snapshot(client) == before

    def test_arrays_count_as_nesting_too(self, client: Client) -> None:
        deep: Any = []
        for _ in range(MAX_DEPTH + 1):
            deep = [deep]
        assert_json_error(client.simulate_post("/", json={"list": deep}), 400)

    @pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 990])
    def test_a_filter_nested_deeper_is_400(self, client: Client, depth: int) -> None:
        create_case(client)
        key = "data" + "[a]" * depth
        result = client.simulate_get("/", query_string=f"{key}=x")
        assert_json_error(result, 400)

    def test_a_hook_storing_data_nested_too_deep_fails_the_request(
        self, client: Client, flow: Taskflow
    ) -> None:
        flow.hook("create", lambda event: event.update({"deep": nested(MAX_DEPTH + 5)}))
        assert_json_error(client.simulate_post("/", json={}), 400)
        assert client.simulate_get("/").json["meta"]["count"] == 0


class TestCommentAuthorship:
    AUTHOR = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"

    def comment_by_author(self, client: Client) -> tuple[str, str]:
        case = create_case(client)
        result = client.simulate_post(
            f"/{case['id']}/comment", json={"comment": "mine"}, headers=as_user(self.AUTHOR)
        )
        return case["id"], result.json["data"]["activityLog"][0]["id"]

    @pytest.mark.parametrize(
        "spelling",
        [
            "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
            "urn:uuid:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
        ],
    )
    def test_another_spelling_of_the_authors_uuid_is_someone_else(
        self, client: Client, spelling: str
    ) -> None:
        case_id, comment_id = self.comment_by_author(client)
        before = snapshot(client)
        result = client.simulate_put(
            f"/{case_id}/comment/{comment_id}", json={"comment": "x"}, headers=as_user(spelling)
        )
        assert_json_error(result, 403)
        assert snapshot(client) == before

    def test_the_authors_uuid_in_capitals_is_the_author(self, client: Client) -> None:
        case_id, comment_id = self.comment_by_author(client)
        result = client.simulate_put(
            f"/{case_id}/comment/{comment_id}",
            json={"comment": "edited"},
            headers=as_user(self.AUTHOR.upper()),
        )
        assert result.status_code == 200, result.text


class TestEchoedNames:
    def test_an_unknown_exclude_key_is_quoted_and_cut_short(self, client: Client) -> None:
        attack = "<script>alert(document.cookie)</script>" * 5
        result = client.simulate_get("/", query_string=f"exclude[{attack}]=x")
        body = assert_json_error(result, 400)
        assert "<script>" not in result.text
        assert attack not in body["message"]
        assert len(body["message"]) < 200
        assert all(len(key) < 200 for key in body["errors"])

    def test_a_conflicting_filter_name_is_quoted_and_cut_short(self, client: Client) -> None:
        attack = "<script>alert(1)</script>" * 5
        result = client.simulate_get("/", query_string=f"data[{attack}]=x&data[{attack}][b]=y")
        body = assert_json_error(result, 400)
        assert "<script>" not in result.text
        assert len(body["message"]) < 200
