"""What a client of the original sees on the wire, on every store (SPEC §3, "Details a client
of the original can see"; issue 23)."""

from __future__ import annotations

import falcon.testing
import pytest

from taskflow_core import Taskflow
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import as_user, assert_json_error, create_case, snapshot

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

        assert_json_error(result, 404)
        assert client.simulate_get("/").json["meta"]["count"] == 1


class TestSortAscending:
    @pytest.fixture
    def two(self, client: Client) -> list[str]:
        return [create_case(client, {"n": n})["id"] for n in (1, 2)]

    @pytest.mark.parametrize(("value", "reverse"), [("true", False), ("false", True)])
    def test_exactly_true_or_false(
        self, client: Client, two: list[str], value: str, reverse: bool
    ) -> None:
        query = f"sort[column]=createdAt&sort[ascending]={value}"

        listed = [case["id"] for case in client.simulate_get("/", query_string=query).json["data"]]

        assert listed == (two[::-1] if reverse else two)

    @pytest.mark.parametrize("value", ["True", "TRUE", "FALSE", "1", "yes", ""])
    def test_any_other_value_is_400_never_a_silently_reversed_order(
        self, client: Client, two: list[str], value: str
    ) -> None:
        query = f"sort[column]=createdAt&sort[ascending]={value}"

        error = assert_json_error(client.simulate_get("/", query_string=query), 400)

        assert "sort[ascending]" in error["message"]


class TestPreserveUpdatedAt:
    @pytest.mark.parametrize(
        ("query", "preserved"),
        [
            ("preserveUpdatedAt=true", True),
            ("preserveUpdatedAt=TRUE", True),
            ("preserveUpdatedAt=abc", True),
            ("preserveUpdatedAt=1", True),
            ("preserveUpdatedAt=false", False),
            ("preserveUpdatedAt=", False),
            ("preserveUpdatedAt", False),
            ("", False),
        ],
    )
    def test_as_the_original_but_false(self, client: Client, query: str, preserved: bool) -> None:
        case = create_case(client)

        result = client.simulate_put(f"/{case['id']}", json={"data": {"x": 1}}, query_string=query)

        assert result.status_code == 200, result.text
        assert result.json["data"]["data"]["x"] == 1
        assert (result.json["data"]["updatedAt"] == case["updatedAt"]) is preserved


class TestCommentFromMeta:
    def test_a_comment_sent_only_as_meta_comment_is_that_comment(self, client: Client) -> None:
        case = create_case(client)

        result = client.simulate_post(
            f"/{case['id']}/comment", json={"meta": {"comment": "why"}}, headers=as_user("alice")
        )

        assert result.status_code == 200, result.text
        entry = result.json["data"]["activityLog"][0]
        assert (entry["eventName"], entry["comment"]) == ("comment", "why")

    @pytest.mark.parametrize(
        "body", [{}, {"meta": {}}, {"meta": {"comment": ""}}, {"meta": {"comment": 3}}, {"meta": 1}]
    )
    def test_without_a_non_empty_meta_comment_it_is_still_400(
        self, client: Client, body: dict[str, object]
    ) -> None:
        case = create_case(client)
        before = snapshot(client)

        result = client.simulate_post(f"/{case['id']}/comment", json=body)

        assert "comment" in assert_json_error(result, 400)["message"]
        assert snapshot(client) == before


class TestChangedByUuid:
    UPPER = "7B8F1A4E-1111-4A4A-8A8A-00000000ABCD"

    def test_a_uuid_actor_is_written_in_lower_case(self, client: Client) -> None:
        case = create_case(client, user=self.UPPER)

        shown = client.simulate_get(f"/{case['id']}").json["data"]

        assert shown["activityLog"][0]["changedBy"] == self.UPPER.lower()

    @pytest.mark.parametrize("editor", [UPPER, UPPER.lower()])
    def test_the_author_may_edit_in_either_case(self, client: Client, editor: str) -> None:
        case = create_case(client)
        commented = client.simulate_post(
            f"/{case['id']}/comment", json={"comment": "hi"}, headers=as_user(self.UPPER)
        ).json["data"]
        entry = commented["activityLog"][0]
        assert entry["changedBy"] == self.UPPER.lower()

        result = client.simulate_put(
            f"/{case['id']}/comment/{entry['id']}",
            json={"comment": "edited"},
            headers=as_user(editor),
        )

        assert result.status_code == 200, result.text
        assert {e["changedBy"] for e in result.json["data"]["activityLog"][:1]} == {
            self.UPPER.lower()
        }

    def test_another_id_keeps_its_letters(self, client: Client) -> None:
        case = create_case(client, user="Alice")

        shown = client.simulate_get(f"/{case['id']}").json["data"]

        assert shown["activityLog"][0]["changedBy"] == "Alice"


class TestAssignWithoutProfileId:
    @pytest.mark.parametrize("assignee", ["bob", None])
    def test_keeps_the_assignee_and_logs_an_assign_without_assigned_to(
        self,
        client: Client,
        flow: Taskflow,
        assignee: str | None,
    ) -> None:
        metas: list[dict[str, object]] = []
        flow.hook("assign", lambda event: metas.append(dict(event.meta)))
        case = create_case(client)
        if assignee is not None:
            client.simulate_put(f"/{case['id']}/assign", json={"profileId": assignee})
        before = client.simulate_get(f"/{case['id']}").json["data"]

        result = client.simulate_put(f"/{case['id']}/assign", json={}, headers=as_user("alice"))

        assert result.status_code == 200, result.text
        after = result.json["data"]
        assert after["assignedTo"] == assignee
        assert after["updatedAt"] == before["updatedAt"]
        assert after["version"] > before["version"]
        entry = after["activityLog"][0]
        assert (entry["eventName"], entry["changedBy"]) == ("assign", "alice")
        assert "assignedTo" not in entry["event"]["meta"]
        assert entry["event"]["assignedTo"] == assignee
        assert len(after["activityLog"]) == len(before["activityLog"]) + 1
        assert "assignedTo" not in metas[-1]
