"""A listing's mapping sent as a query string reads back, on the server, as the same mapping:
the client's encoding (taskflow_client/query.py) against the server's parser."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from taskflow_client.query import query_pairs
from taskflow_falcon.listing import list_query_from_string

# Read back as sent: strings, lists, nested mappings.
AS_SENT = [
    {"status": ["a", "b"]},
    {"status": ["a"]},
    {"status": "a"},
    {"data": {"address": {"town": "Leeds, West"}}},
    {"exclude": {"status": ["x"], "assignedTo": ["y"]}},
    {"q": "lic ada & co=1"},
    {},
]
# Read back as text, as every value of a query string is.
AS_TEXT = [
    ({"sort": {"column": "due", "ascending": False}},
     {"sort": {"column": "due", "ascending": "false"}}),
    ({"limit": 20, "offset": 40}, {"limit": "20", "offset": "40"}),
    ({"unassigned": True}, {"unassigned": "true"}),
    ({"createdAt": {"from": datetime(2026, 1, 5, tzinfo=UTC)}},
     {"createdAt": {"from": "2026-01-05T00:00:00+00:00"}}),
    ({"view": "mine", "assignedTo": None}, {"view": "mine"}),
]  # fmt: skip


@pytest.mark.parametrize(("query", "read_back"), [(query, query) for query in AS_SENT] + AS_TEXT)
def test_the_server_reads_back_what_the_client_meant(
    query: dict[str, Any], read_back: dict[str, Any]
) -> None:
    assert list_query_from_string(urlencode(query_pairs(query))) == read_back
