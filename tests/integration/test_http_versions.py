"""Versions over HTTP: ETag on every single-case answer, 304 for a current copy, If-Match
refusing a change to a case that moved on (412), on every store."""

from __future__ import annotations

import itertools
from typing import Any

import falcon.testing
import pytest

from taskflow_core import HookEvent, Taskflow
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import (
    MUTATIONS,
    as_user,
    assert_json_error,
    create_case,
    path_for,
    snapshot,
)

Client = falcon.testing.TestClient


def mutate(
    client: Client, case: dict[str, Any], mutation: str, **headers: str
) -> falcon.testing.Result:
    method, template, body = MUTATIONS[mutation]
    return client.simulate_request(
        method,
        path_for(template, case),
        json=body,
        headers={**as_user("alice"), **{k.replace("_", "-"): v for k, v in headers.items()}},
    )


def etag_of(result: falcon.testing.Result) -> str:
    return str(result.headers["etag"])


class TestEtags:
    def test_a_new_case_is_version_1_with_its_etag(self, client: Client) -> None:
        created = client.simulate_post("/", json={"a": 1})
        read = client.simulate_get(f"/{created.json['data']['id']}")

        assert created.json["data"]["version"] == read.json["data"]["version"] == 1
        assert etag_of(created) == etag_of(read) == '"1"'

    def test_listed_cases_carry_their_version(self, client: Client, case: dict[str, Any]) -> None:
        listed = client.simulate_get("/").json["data"]
        assert [c["version"] for c in listed] == [case["version"]]

    @pytest.mark.parametrize("mutation", list(MUTATIONS))
    def test_every_mutation_answers_with_the_etag_of_the_version_it_left(
        self, client: Client, case: dict[str, Any], mutation: str
    ) -> None:
        result = mutate(client, case, mutation)

        assert result.status_code == 200, result.text
        version = result.json["data"]["version"]
        assert version > case["version"]
        assert etag_of(result) == f'"{version}"'
        assert etag_of(client.simulate_get(f"/{case['id']}")) == etag_of(result)

    def test_etags_strictly_increase_across_every_kind_of_request_and_a_hook_cascade(
        self, client: Client, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        flow.hook("status:*:open", lambda event: event.set_status("review"))
        flow.hook("status:open:review", lambda event: event.patch({"reviewed": True}))
        versions = [case["version"]]
        for mutation in MUTATIONS:
            current = client.simulate_get(f"/{case['id']}").json["data"]
            result = mutate(client, current, mutation)
            assert result.status_code == 200, (mutation, result.text)
            versions.append(int(etag_of(result).strip('"')))
        assert all(a < b for a, b in itertools.pairwise(versions)), versions

    def test_a_decorator_that_drops_the_version_leaves_the_etag(
        self, client: Client, flow: Taskflow
    ) -> None:
        flow.decorate(lambda case, user: {k: v for k, v in case.items() if k != "version"})
        created = client.simulate_post("/", json={})
        read = client.simulate_get(f"/{created.json['data']['id']}")

        assert "version" not in read.json["data"]
        assert etag_of(created) == etag_of(read) == '"1"'


class TestIfNoneMatch:
    def test_the_current_etag_answers_304_without_a_body(
        self, client: Client, case: dict[str, Any]
    ) -> None:
        current = etag_of(client.simulate_get(f"/{case['id']}"))

        result = client.simulate_get(f"/{case['id']}", headers={"If-None-Match": current})

        assert result.status_code == 304
        assert result.content == b""
        assert etag_of(result) == current

    @pytest.mark.parametrize("header", ["*", '"999", "{v}"', 'W/"{v}"', '"{v}",'])
    def test_star_a_list_or_a_weak_tag_naming_the_version_answer_304(
        self, client: Client, case: dict[str, Any], header: str
    ) -> None:
        value = header.format(v=case["version"])
        result = client.simulate_get(f"/{case['id']}", headers={"If-None-Match": value})
        assert result.status_code == 304

    def test_after_a_comment_the_old_etag_gets_the_case_again(
        self, client: Client, case: dict[str, Any]
    ) -> None:
        old = etag_of(client.simulate_get(f"/{case['id']}"))
        client.simulate_post(f"/{case['id']}/comment", json={"comment": "news"})

        result = client.simulate_get(f"/{case['id']}", headers={"If-None-Match": old})

        assert result.status_code == 200
        assert result.json["data"]["activityLog"][0]["comment"] == "news"
        assert etag_of(result) != old

    def test_an_unknown_case_is_404_whatever_the_header(self, client: Client) -> None:
        result = client.simulate_get(
            "/6f1c2c7e-8d0a-4b7e-9a55-0c7f0d1e2a3b", headers={"If-None-Match": "*"}
        )
        assert_json_error(result, 404)

    @pytest.mark.parametrize("header", ["", "1", '"1', '"1" "2"', "W/1", '"a"b"'])
    def test_a_malformed_header_is_400(
        self, client: Client, case: dict[str, Any], header: str
    ) -> None:
        result = client.simulate_get(f"/{case['id']}", headers={"If-None-Match": header})
        assert_json_error(result, 400)


class TestIfMatch:
    @pytest.mark.parametrize("mutation", list(MUTATIONS))
    def test_a_stale_etag_is_412_and_nothing_changes_nor_any_hook_runs(
        self, client: Client, flow: Taskflow, case: dict[str, Any], mutation: str
    ) -> None:
        ran: list[str] = []

        def record(event: HookEvent) -> None:
            ran.append(event.event)

        for name in ("update", "assign", "comment", "update-comment", "delete-comment"):
            flow.hook(f"pre-{name}", record).hook(name, record)
        flow.hook("pre-status:*:*", record)
        before = snapshot(client)
        stale = f'"{case["version"] - 1}"'

        result = mutate(client, case, mutation, If_Match=stale)

        body = assert_json_error(result, 412)
        assert "version" in body["message"]
        assert ran == []
        assert snapshot(client) == before

    @pytest.mark.parametrize("mutation", list(MUTATIONS))
    def test_the_current_etag_lets_the_change_through(
        self, client: Client, case: dict[str, Any], mutation: str
    ) -> None:
        result = mutate(client, case, mutation, If_Match=f'"{case["version"]}"')
        assert result.status_code == 200, result.text

    @pytest.mark.parametrize("header", ["*", '"999", "{v}"', ' "{v}" , "1000" ', ', "{v}"'])
    def test_star_or_a_list_naming_the_current_version_lets_the_change_through(
        self, client: Client, case: dict[str, Any], header: str
    ) -> None:
        value = header.format(v=case["version"])
        result = mutate(client, case, "PUT /{id}/status", If_Match=value)
        assert result.status_code == 200, result.text

    @pytest.mark.parametrize("header", ['W/"{v}"', '"{v}0"', '"0{v}"', '"abc"'])
    def test_a_weak_or_foreign_tag_never_matches(
        self, client: Client, case: dict[str, Any], header: str
    ) -> None:
        before = snapshot(client)
        value = header.format(v=case["version"])
        assert_json_error(mutate(client, case, "PUT /{id}/status", If_Match=value), 412)
        assert snapshot(client) == before

    def test_of_two_clients_who_read_the_same_version_the_second_gets_412(
        self, client: Client, case: dict[str, Any]
    ) -> None:
        seen = etag_of(client.simulate_get(f"/{case['id']}"))
        first = client.simulate_put(
            f"/{case['id']}", json={"data": {"by": "first"}}, headers={"If-Match": seen}
        )
        second = client.simulate_put(
            f"/{case['id']}", json={"data": {"by": "second"}}, headers={"If-Match": seen}
        )

        assert (first.status_code, second.status_code) == (200, 412)
        assert client.simulate_get(f"/{case['id']}").json["data"]["data"]["by"] == "first"

    @pytest.mark.parametrize("header", ["", "3", '"3', '"3" "4"', "W/3", '*, "3"'])
    def test_a_malformed_header_is_400_and_nothing_changes(
        self, client: Client, case: dict[str, Any], header: str
    ) -> None:
        before = snapshot(client)
        assert_json_error(mutate(client, case, "PUT /{id}/status", If_Match=header), 400)
        assert snapshot(client) == before

    @pytest.mark.parametrize("digits", [20, 4301, 5000])
    def test_a_tag_of_more_digits_than_any_version_is_412_and_nothing_changes(
        self, client: Client, case: dict[str, Any], digits: int
    ) -> None:
        before = snapshot(client)
        value = f'"{"9" * digits}"'
        assert_json_error(mutate(client, case, "PUT /{id}/status", If_Match=value), 412)
        assert snapshot(client) == before

    def test_a_header_longer_than_any_list_of_tags_is_400_and_nothing_changes(
        self, client: Client, case: dict[str, Any]
    ) -> None:
        before = snapshot(client)
        value = ", ".join(f'"{n}"' for n in range(2000))
        assert_json_error(mutate(client, case, "PUT /{id}/status", If_Match=value), 400)
        assert snapshot(client) == before

    def test_a_create_ignores_if_match(self, client: Client) -> None:
        result = client.simulate_post("/", json={}, headers={"If-Match": '"41"'})
        assert result.status_code == 200
        assert result.json["data"]["version"] == 1

    def test_an_unknown_case_is_404(self, client: Client) -> None:
        result = client.simulate_put(
            "/6f1c2c7e-8d0a-4b7e-9a55-0c7f0d1e2a3b/status",
            json={"status": "open"},
            headers={"If-Match": '"1"'},
        )
        assert_json_error(result, 404)

    def test_without_if_match_a_change_to_a_moved_case_still_goes_through(
        self, client: Client
    ) -> None:
        made = create_case(client)
        client.simulate_put(f"/{made['id']}/status", json={"status": "open"})
        result = client.simulate_put(f"/{made['id']}/status", json={"status": "closed"})
        assert result.status_code == 200
