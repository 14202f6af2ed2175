"""What a client of the original sees on the wire, on every store (SPEC §3, "Details a client
of the original can see"; issue 23)."""

from __future__ import annotations

import base64
import hashlib

import falcon.testing
import pytest

import taskflow_core.application.query
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


def express_etag(body: bytes) -> str:
    digest = base64.b64encode(hashlib.sha1(body, usedforsecurity=False).digest()).decode()
    return f'W/"{len(body):x}-{digest[:27]}"'


class TestListingETag:
    def test_a_listing_carries_the_weak_etag_of_its_body(self, client: Client) -> None:
        create_case(client)

        result = client.simulate_get("/")

        assert result.headers["etag"] == express_etag(result.content)

    def test_a_matching_if_none_match_is_304_without_a_body(self, client: Client) -> None:
        create_case(client)
        tag = client.simulate_get("/").headers["etag"]

        for sent in [tag, f'"other", {tag}', tag.removeprefix("W/"), "*"]:
            result = client.simulate_get("/", headers={"If-None-Match": sent})
            assert result.status_code == 304, sent
            assert result.content == b""
            assert result.headers["etag"] == tag

    def test_a_change_or_another_page_answers_200_with_another_tag(self, client: Client) -> None:
        case = create_case(client)
        tag = client.simulate_get("/").headers["etag"]
        client.simulate_put(f"/{case['id']}/status", json={"status": "open"})

        changed = client.simulate_get("/", headers={"If-None-Match": tag})
        other = client.simulate_get("/", query_string="limit=0", headers={"If-None-Match": tag})

        assert changed.status_code == 200
        assert changed.headers["etag"] not in (tag, None)
        assert other.status_code == 200
        assert changed.json["data"][0]["status"] == "open"

    def test_a_streamed_listing_goes_without(
        self, client: Client, flow: Taskflow, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(taskflow_core.application.query, "LISTING_BUDGET", 2500)
        for n in range(4):
            flow.create({"n": n, "text": "x" * 1500})

        result = client.simulate_get("/", headers={"If-None-Match": "*"})

        assert result.status_code == 200
        assert "etag" not in result.headers
        assert len(result.json["data"]) == 4


class TestNumbers:
    BIG = "123456789012345678901234567"
    BODY = f'{{"huge": 1.5e300, "e21": 1e21, "one": 1.0, "tiny": 1e-7, "big": {BIG}}}'
    # Each as written (jsonb orders the keys its own way).
    WRITTEN = ['"huge": 1.5e+300', '"e21": 1e+21', '"one": 1,', '"tiny": 1e-7', f'"big": {BIG}']

    def test_numbers_are_written_as_json_stringify_writes_them(self, client: Client) -> None:
        created = client.simulate_post("/", body=self.BODY, content_type="application/json")
        case_id = created.json["data"]["id"]

        answers = [
            created.text,
            client.simulate_get(f"/{case_id}").text,
            client.simulate_get("/").text,
            client.simulate_put(f"/{case_id}/status", json={"status": "open"}).text,
        ]

        for text in answers:
            assert [written in text for written in self.WRITTEN] == [True] * 5, text
