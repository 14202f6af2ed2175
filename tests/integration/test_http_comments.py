"""Comments over HTTP: adding, editing and deleting them, and who may."""

from __future__ import annotations

from typing import Any

import falcon.testing
import pytest

from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import as_user, create_case

Client = falcon.testing.TestClient


def comments_of(case: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in case["activityLog"] if e["eventName"] == "comment"]


class TestComments:
    @pytest.mark.parametrize("path", ["comment", "comments"])
    def test_post_comment_adds_it_to_the_activity_log(self, client: Client, path: str) -> None:
        case = create_case(client)

        result = client.simulate_post(
            f"/{case['id']}/{path}", json={"comment": "Looks fine"}, headers=as_user("alice")
        )

        assert result.status_code == 200
        [entry] = comments_of(result.json["data"])
        assert entry["comment"] == "Looks fine"
        assert entry["changedBy"] == "alice"

    @pytest.mark.parametrize("path", ["comment", "comments"])
    def test_author_edits_a_comment(self, client: Client, path: str) -> None:
        case = create_case(client)
        posted = client.simulate_post(
            f"/{case['id']}/comment", json={"comment": "frist"}, headers=as_user("alice")
        )
        comment_id = comments_of(posted.json["data"])[0]["id"]

        result = client.simulate_put(
            f"/{case['id']}/{path}/{comment_id}",
            json={"comment": "first"},
            headers=as_user("alice"),
        )

        assert result.status_code == 200
        [entry] = comments_of(result.json["data"])
        assert entry["id"] == comment_id
        assert entry["comment"] == "first"

    def test_author_deletes_a_comment(self, client: Client) -> None:
        case = create_case(client)
        posted = client.simulate_post(
            f"/{case['id']}/comment", json={"comment": "oops"}, headers=as_user("alice")
        )
        comment_id = comments_of(posted.json["data"])[0]["id"]

        result = client.simulate_delete(
            f"/{case['id']}/comment/{comment_id}", headers=as_user("alice")
        )

        assert result.status_code == 200
        [entry] = comments_of(result.json["data"])
        assert entry["deleted"] is True
        assert entry["comment"] is None

    @pytest.mark.parametrize(
        ("method", "body"), [("PUT", {"comment": "mine now"}), ("DELETE", None)]
    )
    @pytest.mark.parametrize("who", ["bob", None])
    def test_only_the_author_may_change_a_comment(
        self, client: Client, method: str, body: Any, who: str | None
    ) -> None:
        case = create_case(client)
        posted = client.simulate_post(
            f"/{case['id']}/comment", json={"comment": "alice's"}, headers=as_user("alice")
        )
        comment_id = comments_of(posted.json["data"])[0]["id"]
        before = client.simulate_get(f"/{case['id']}").json

        result = client.simulate_request(
            method,
            f"/{case['id']}/comment/{comment_id}",
            json=body,
            headers=as_user(who) if who else None,
        )

        assert result.status_code == 403
        assert set(result.json) <= {"message", "errors"}
        assert client.simulate_get(f"/{case['id']}").json == before
