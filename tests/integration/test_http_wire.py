"""What a client of the original sees on the wire, on every store (SPEC §3, "Details a client
of the original can see"; issue 23)."""

from __future__ import annotations

import falcon.testing
import pytest

from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import as_user, create_case

Client = falcon.testing.TestClient
JSON_TYPE = "application/json; charset=utf-8"


class TestContentType:
    def test_every_json_answer_says_utf_8_as_express(self, client: Client) -> None:
        case = create_case(client)
        answers = [
            client.simulate_get("/"),
            client.simulate_get(f"/{case['id']}"),
            client.simulate_put(f"/{case['id']}/status", json={"status": "open"}),
            client.simulate_get("/00000000-0000-0000-0000-000000000000"),  # 404
            client.simulate_put(f"/{case['id']}/status", json={}),  # 400
            client.simulate_delete("/"),  # 405
            client.simulate_get("/nothing/here/at/all"),  # falcon's own 404
        ]

        assert [a.headers["content-type"] for a in answers] == [JSON_TYPE] * len(answers)


class TestHeadOptionsAndPaths:
    @pytest.mark.parametrize("path", ["/", "/{id}", "/{id}/timers", "/_health"])
    def test_head_answers_as_get_without_a_body(self, client: Client, path: str) -> None:
        case = create_case(client)
        path = path.format(id=case["id"])

        head = client.simulate_head(path)
        get = client.simulate_get(path)

        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers["content-length"] == str(len(get.content))
        assert head.headers.get("etag") == get.headers.get("etag")

    def test_head_of_a_missing_case_is_404(self, client: Client) -> None:
        assert client.simulate_head("/00000000-0000-0000-0000-000000000000").status_code == 404

    def test_options_answers_200_with_allow(self, client: Client) -> None:
        case = create_case(client)

        result = client.simulate_options(f"/{case['id']}")

        assert result.status_code == 200
        assert set(result.headers["allow"].split(", ")) == {
            "GET",
            "HEAD",
            "OPTIONS",
            "PATCH",
            "PUT",
        }

    @pytest.mark.parametrize("path", ["//", "///"])
    def test_a_path_of_empty_segments_is_404_not_the_listing(
        self, client: Client, path: str
    ) -> None:
        create_case(client)

        result = client.simulate_get(path, headers=as_user("alice"))

        assert_json_error(result, 404)  # noqa: F405
        assert client.simulate_get("/").json["meta"]["count"] == 1
