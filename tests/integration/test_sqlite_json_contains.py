"""Data filters on SqliteStore follow PostgreSQL's ``jsonb @>`` containment exactly."""

import json
from typing import Any

import pytest

from taskflow_core import Taskflow
from taskflow_sqlite import SqliteStore
from taskflow_sqlite.json_contains import json_contains

DOCUMENT = {
    "model": "pil",
    "count": 1,
    "ratio": 1.5,
    "flag": True,
    "nothing": None,
    "owner": {"name": "ada", "team": {"id": "x1", "size": 3}},
    "tags": ["a", "b", 1],
    "matrix": [[1, 2], [3, 4]],
    "people": [{"name": "ada", "age": 36}, {"name": "bob"}],
}

# (filter, whether DOCUMENT contains it), each as PostgreSQL answers ``DOCUMENT @> filter``.
CASES: list[tuple[dict[str, Any], bool]] = [
    ({}, True),
    ({"model": "pil"}, True),
    ({"model": "PIL"}, False),
    ({"missing": None}, False),
    ({"nothing": None}, True),
    ({"count": 1}, True),
    ({"count": 1.0}, True),
    ({"count": "1"}, False),
    ({"flag": True}, True),
    ({"flag": 1}, False),
    ({"count": True}, False),
    ({"ratio": 1.5}, True),
    ({"owner": {"name": "ada"}}, True),
    ({"owner": {"team": {"id": "x1"}}}, True),
    ({"owner": {"team": {"id": "x2"}}}, False),
    ({"owner": "ada"}, False),
    ({"owner": {}}, True),
    ({"tags": ["b"]}, True),
    ({"tags": ["b", "a"]}, True),
    ({"tags": ["a", "a"]}, True),
    ({"tags": []}, True),
    ({"tags": [1]}, True),
    ({"tags": ["1"]}, False),
    ({"tags": ["c"]}, False),
    ({"tags": "a"}, False),
    ({"matrix": [[2]]}, True),
    ({"matrix": [[1, 4]]}, False),
    ({"matrix": [1]}, False),
    ({"people": [{"name": "bob"}]}, True),
    ({"people": [{"age": 36}, {"name": "bob"}]}, True),
    ({"people": [{"name": "bob", "age": 36}]}, False),
    ({"model": "pil", "count": 1}, True),
    ({"model": "pil", "count": 2}, False),
]


class TestContainmentFunction:
    @pytest.mark.parametrize(("wanted", "expected"), CASES)
    def test_containment_matches_postgres(self, wanted: dict[str, Any], expected: bool) -> None:
        assert json_contains(json.dumps(DOCUMENT), json.dumps(wanted)) == int(expected)

    def test_null_document_matches_nothing(self) -> None:
        assert json_contains(None, "{}") is None


class TestDataFilterInListing:
    @pytest.mark.parametrize(("wanted", "expected"), CASES)
    def test_listing_selects_the_cases_that_contain_the_filter(
        self, sqlite_store: SqliteStore, wanted: dict[str, Any], expected: bool
    ) -> None:
        flow = Taskflow(sqlite_store)
        case = flow.create(DOCUMENT)
        flow.create({"model": "other"})

        found = flow.list({"data": wanted})

        ids = [c["id"] for c in found["data"]]
        assert (case["id"] in ids) is expected
        assert found["meta"]["count"] == len(ids)

    def test_data_filter_combines_with_the_other_filters(self, sqlite_store: SqliteStore) -> None:
        flow = Taskflow(sqlite_store)
        wanted = flow.create({"model": "pil"})
        flow.set_status(wanted["id"], "open")
        flow.create({"model": "pil"})
        flow.set_status(flow.create({"model": "other"})["id"], "open")

        found = flow.list({"data": {"model": "pil"}, "status": ["open"]})

        assert [c["id"] for c in found["data"]] == [wanted["id"]]
