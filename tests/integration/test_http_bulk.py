"""``POST /_bulk`` and ``GET /_export`` (SPEC §18): the body and query string as the HTTP API
takes them, 400s with a JSON message that change nothing, replays under an Idempotency-Key,
and the export's streamed NDJSON and CSV with a file name."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import falcon.testing
import pytest

from taskflow_core import Taskflow
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import as_user, assert_json_error, create_case, snapshot

Client = falcon.testing.TestClient
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def bulk(client: Client, body: Any, **headers: str) -> falcon.testing.Result:
    return client.simulate_post("/_bulk", json=body, headers={**as_user("bob"), **headers})


class TestBulk:
    def test_a_batch_answers_a_row_per_case_with_its_status(self, client: Client) -> None:
        ids = [create_case(client)["id"] for _ in range(2)]

        result = bulk(client, {"ids": [*ids, UNKNOWN], "action": {"status": "open"}})

        assert result.status_code == 200
        assert result.headers["content-type"] == "application/json; charset=utf-8"
        assert [row["status"] for row in result.json["data"]] == [200, 200, 404]
        meta = result.json["meta"]
        assert (meta["count"], meta["succeeded"], meta["failed"]) == (3, 2, 1)
        case = client.simulate_get(f"/{ids[0]}").json["data"]
        assert case["status"] == "open"
        assert case["activityLog"][0]["event"]["meta"]["bulk"] == meta["bulk"]
        assert case["activityLog"][0]["changedBy"] == "bob"

    def test_a_batch_by_query_takes_the_listing_parameters(self, client: Client) -> None:
        dog = create_case(client, {"kind": "dog"})
        create_case(client, {"kind": "cat"})

        result = bulk(client, {"query": {"data": {"kind": "dog"}}, "action": {"assign": "ann"}})

        assert [row["id"] for row in result.json["data"]] == [dog["id"]]
        assert client.simulate_get(f"/{dog['id']}").json["data"]["assignedTo"] == "ann"

    def test_a_dry_run_changes_nothing(self, client: Client) -> None:
        create_case(client)
        before = snapshot(client)

        result = bulk(client, {"query": {}, "action": {"comment": "hi"}, "dryRun": True})

        assert result.json["meta"]["count"] == 1
        assert result.json["meta"]["dryRun"] is True
        assert snapshot(client) == before

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"ids": [UNKNOWN] * 2, "action": {}}, "action"),
            ({"ids": [UNKNOWN], "action": {"status": "a", "comment": "b"}}, "action"),
            ({"ids": ["nope"], "action": {"status": "open"}}, "ids[0]"),
            ({"action": {"status": "open"}}, "ids"),
            ({"ids": [UNKNOWN], "query": {}, "action": {"status": "open"}}, "ids"),
            ({"ids": [UNKNOWN], "action": {"status": "open"}, "dry_run": True}, "dry_run"),
            ({"ids": [UNKNOWN], "action": {"status": "open"}, "dryRun": "yes"}, "dryRun"),
            ({"query": {"limit": "5"}, "action": {"status": "open"}}, "query.limit"),
            ({"query": {"sort": {"column": "x"}}, "action": {"status": "open"}}, "sort[column]"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
        self, client: Client, body: dict[str, Any], field: str
    ) -> None:
        create_case(client)
        before = snapshot(client)

        result = bulk(client, body)

        assert field in assert_json_error(result, 400).get("errors", {})
        assert snapshot(client) == before

    def test_more_than_a_thousand_ids_is_a_400(self, client: Client) -> None:
        ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(1001)]
        result = bulk(client, {"ids": ids, "action": {"status": "open"}})
        assert assert_json_error(result, 400)["errors"] == {"ids": "too many"}

    def test_a_body_that_is_not_an_object_is_a_400(self, client: Client) -> None:
        assert_json_error(client.simulate_post("/_bulk", body="[1]"), 400)

    def test_a_batch_sent_again_with_its_key_is_replayed_byte_for_byte(
        self, client: Client, flow: Taskflow
    ) -> None:
        calls: list[str] = []
        flow.hook("comment", lambda event: calls.append(event.id))
        ids = [create_case(client)["id"] for _ in range(2)]
        body = {"ids": ids, "action": {"comment": "once"}}

        first = bulk(client, body, **{"Idempotency-Key": "k-1"})
        again = bulk(client, body, **{"Idempotency-Key": "k-1"})
        other = bulk(client, {**body, "dryRun": True}, **{"Idempotency-Key": "k-1"})

        assert first.status_code == again.status_code == 200
        assert again.content == first.content
        assert again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert len(calls) == 2
        assert_json_error(other, 422)


def lines_of(result: falcon.testing.Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.text.splitlines()]


class TestExport:
    def test_ndjson_streams_every_matching_case_with_a_file_name(self, client: Client) -> None:
        dogs = [create_case(client, {"kind": "dog"})["id"] for _ in range(3)]
        create_case(client, {"kind": "cat"})

        result = client.simulate_get("/_export", query_string="format=ndjson&data[kind]=dog")

        assert result.status_code == 200
        assert result.headers["content-type"] == "application/x-ndjson; charset=utf-8"
        disposition = result.headers["content-disposition"]
        assert re.fullmatch(r'attachment; filename="cases-\d{8}T\d{6}Z\.ndjson"', disposition)
        assert [case["id"] for case in lines_of(result)] == sorted(dogs)

    def test_csv_has_a_header_and_a_row_per_case(self, client: Client) -> None:
        case = create_case(client, {"title": "=1+1", "tags": ["a", "b"]})

        result = client.simulate_get("/_export", params={"format": "csv"})

        assert result.headers["content-type"] == "text/csv; charset=utf-8"
        assert result.headers["content-disposition"].endswith('.csv"')
        rows = list(csv.DictReader(io.StringIO(result.text)))
        assert len(rows) == 1
        assert rows[0]["id"] == case["id"]
        assert rows[0]["data.title"] == "'=1+1"
        assert rows[0]["data.tags"] == '["a", "b"]'

    def test_the_answer_is_streamed_not_sent_whole(self, client: Client) -> None:
        create_case(client)
        result = client.simulate_get("/_export", params={"format": "ndjson"})
        assert result.status_code == 200
        # The test client joins the stream; that it was one shows in the missing length.
        assert "content-length" not in result.headers
        listed = client.simulate_get("/")
        assert "content-length" in listed.headers  # a whole answer has one

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("", "format"),
            ("format=xlsx", "format"),
            ("format=csv&sort[column]=nonsense", "sort[column]"),
            ("format=csv&view=unknown", "view"),
        ],
    )
    def test_bad_parameters_are_a_400(self, client: Client, query: str, field: str) -> None:
        result = client.simulate_get("/_export", query_string=query)
        assert field in assert_json_error(result, 400)["errors"]
