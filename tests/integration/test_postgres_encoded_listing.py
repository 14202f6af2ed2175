"""PostgreSQL writes a listing's cases as JSON itself (``list_encoded``): the text must be
what the worker would have written from the same rows (taskflow_core/domain/wire.py), byte for byte,
whatever the data, the session and the page's budget."""

import json
from typing import Any

import psycopg
import pytest

from taskflow_core import Taskflow
from taskflow_core.application.query import parse_list_query
from taskflow_core.domain.wire import case_to_wire, encode_json
from taskflow_core.ports import EncodedListings
from taskflow_postgres import PostgresStore

pytestmark = pytest.mark.postgres

# Data whose text Python and jsonb write alike: every JSON type, nesting, keys jsonb
# reorders, strings with what either side might escape.
ALIKE = [
    {},
    {"n": 1, "neg": -7, "big": 2**62, "f": 2.5, "one": 1.0, "tenth": 0.1, "pi": 3.141592653589793},
    {"yes": True, "no": False, "none": None, "list": [], "obj": {}, "deep": [[{"a": [1]}]]},
    {"zz": 1, "a": 2, "mm": 3, "b": {"y": 1, "x": 2}},
    {"text": 'quote " backslash \\ slash / tab \t newline \n return \r bell \x07 nul-ish \x01'},
    {"unicode": "é ✓ 日本 \u2028 \u2029 \x7f 😀", "é": "key"},
    {"subject": "subject-42", "list": [1, "two", None, 3.5, {"k": "v"}]},
]
# Numbers Python writes with an exponent and jsonb without, or jsonb with digits Python
# does not: both written as JavaScript writes them (taskflow_core/domain/jsnumbers.py).
EXPONENTS = [
    {"small": 1e-07, "large": 1e16, "neg": -2.5e-10, "huge": 1.5e300, "e21": 1e21, "one": 1.0}
]


def encoded_and_expected(flow: Taskflow, query: dict[str, Any]) -> tuple[list[str], list[str]]:
    store = flow.store
    assert isinstance(store, PostgresStore)
    with store.unit_of_work(read_only=True) as uow:
        assert isinstance(uow.cases, EncodedListings)
        encoded = uow.cases.list_encoded(parse_list_query(query), budget=10**9).cases
        page = uow.cases.list(parse_list_query(query))
    return encoded, [encode_json(case_to_wire(case)) for case in page.cases]


@pytest.fixture
def flow(postgres_store: PostgresStore) -> Taskflow:
    return Taskflow(postgres_store)


def test_the_servers_text_is_the_workers_byte_for_byte(flow: Taskflow) -> None:
    for n, data in enumerate(ALIKE):
        case = flow.create(data, user="4f6f6f6f-0000-4000-8000-000000000000")
        if n % 2:
            flow.set_status(case["id"], "in-review")
        if n % 3 == 0:
            flow.assign(case["id"], "ann \\ é")
    encoded, expected = encoded_and_expected(flow, {"limit": 100})
    assert len(encoded) == len(ALIKE)
    assert encoded == expected


def test_numbers_are_written_as_javascript_writes_them_by_either(flow: Taskflow) -> None:
    flow.create(EXPONENTS[0])
    (encoded,), (expected,) = encoded_and_expected(flow, {})
    assert encoded == expected
    assert json.loads(encoded) == json.loads(expected)
    for written in ['"small": 1e-7', '"huge": 1.5e+300', '"e21": 1e+21', '"one": 1,']:
        assert written in encoded


def test_rows_written_by_hand_read_as_the_worker_reads_them(
    flow: Taskflow, postgres_dsn: str
) -> None:
    # The original's columns allow NULL status and data (rows.py shows them as a new case).
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO cases (id, status, data, created_at, updated_at)"
            " VALUES (gen_random_uuid(), NULL, NULL, '2001-02-03 04:05:06+07', now()),"
            """ (gen_random_uuid(), 'x', '{"b": 1, "a": 2}', '0999-12-31 23:59:59.5+00', now())"""
        )
    encoded, expected = encoded_and_expected(flow, {})
    assert encoded == expected
    assert '"createdAt": "0999-12-31T23:59:59.500Z"' in encoded[0]
    assert '"status": "new", "data": {}' in encoded[1]
    assert '"createdAt": "2001-02-02T21:05:06.000Z"' in encoded[1]


def test_timestamps_are_cut_to_milliseconds_alike(flow: Taskflow, postgres_dsn: str) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO cases (id, status, data, created_at, updated_at)"
            " VALUES (gen_random_uuid(), 'x', '{}', '2026-01-05 10:00:00.123999+00',"
            " '2026-01-05 10:00:00.000999+00')"
        )
    encoded, expected = encoded_and_expected(flow, {})
    assert encoded == expected
    assert '"createdAt": "2026-01-05T10:00:00.123Z"' in encoded[0]
    assert '"updatedAt": "2026-01-05T10:00:00.000Z"' in encoded[0]


def test_timestamps_are_utc_whatever_the_sessions_time_zone(
    flow: Taskflow, postgres_dsn: str
) -> None:
    flow.create({"a": 1})
    with psycopg.connect(postgres_dsn) as conn:
        conn.execute(f"ALTER DATABASE {conn.info.dbname} SET timezone = 'Asia/Kathmandu'")
    store = PostgresStore(postgres_dsn)
    try:
        encoded, expected = encoded_and_expected(Taskflow(store), {})
    finally:
        store.close()
    assert encoded == expected


def test_over_http_a_listing_answers_the_same_body_encoded_by_either(flow: Taskflow) -> None:
    for data in ALIKE:
        flow.create(data)
    body = (
        b'{"data": ['
        + b", ".join(case.encode() for case in flow.listing({"limit": 3, "offset": 2}).first)
        + b'], "meta": {"count": '
        + str(len(ALIKE)).encode()
        + b"}}"
    )
    assert body == encode_json(flow.list({"limit": 3, "offset": 2})).encode()


def test_past_the_budget_the_rest_of_the_page_comes_encoded_by_the_worker(
    flow: Taskflow,
) -> None:
    for n in range(5):
        flow.create({"n": n, "text": "x" * 1000})
    listing = flow.listing(budget=2500)
    assert listing.deferred
    assert 1 <= len(listing.first) <= 2
    sent = [*listing.first, *listing.rest]
    assert [json.loads(case) for case in sent] == flow.list()["data"]
    assert sent == [encode_json(case) for case in flow.list()["data"]]


def test_list_decorators_get_the_cases_to_decorate(flow: Taskflow) -> None:
    flow.create({"a": 1})
    flow.decorate(lambda case, user: {**case, "seen": user}, list=True)
    (case,) = flow.listing(user="ann").first
    assert json.loads(case)["seen"] == "ann"


def test_a_row_whose_data_is_not_an_object_fails_as_the_worker_fails_it(
    flow: Taskflow, postgres_dsn: str
) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO cases (id, status, data) VALUES (gen_random_uuid(), 'x', '[1]')")
    with pytest.raises(ValueError, match="data must be a JSON object"):
        flow.listing()
    with pytest.raises(ValueError, match="data must be a JSON object"):
        flow.list()


@pytest.mark.parametrize(
    "created_at", ["0044-03-15 12:00:00+00 BC", "10000-01-01 00:00:00+00", "infinity"]
)
def test_a_timestamp_python_cannot_hold_fails_as_the_worker_fails_it(
    flow: Taskflow, postgres_dsn: str, created_at: str
) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO cases (id, status, data, created_at) VALUES (gen_random_uuid(), 'x',"
            " '{}', %s)",
            (created_at,),
        )
    with pytest.raises(psycopg.DataError):
        flow.list()
    with pytest.raises(psycopg.DataError):
        flow.listing()


def test_numbers_stored_by_another_client_come_as_javascript_reads_them(
    flow: Taskflow, postgres_dsn: str
) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO cases (id, status, data) VALUES (gen_random_uuid(), 'x',"
            """ '{"price": 1.50, "exact": 0.12345678901234567890}')"""
        )
    (encoded,) = flow.listing().first
    # As the original's answers: JSON.parse, then JSON.stringify, of the stored text.
    assert '"data": {"exact": 0.12345678901234568, "price": 1.5}' in encoded
    assert encoded == encode_json(flow.list()["data"][0])
    (case,) = flow.list()["data"]
    assert case["data"] == {"exact": 0.12345678901234568, "price": 1.5}
