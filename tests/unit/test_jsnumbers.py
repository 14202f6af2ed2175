"""Numbers as JavaScript's JSON.stringify writes them (taskflow_core/domain/jsnumbers.py)."""

import json
import random
import struct

import pytest

from taskflow_core.domain.jsnumbers import as_javascript, number
from taskflow_core.domain.wire import encode_json

# Each token and what JSON.stringify(JSON.parse(token)) answers (node 18 and later).
AS_NODE_WRITES = [
    ("1.5e+300", "1.5e+300"),
    ("1e+21", "1e+21"),
    ("1000000000000000000000", "1e+21"),
    ("1500000000000000000000000000000", "1.5e+30"),
    ("1.0", "1"),
    ("1e-07", "1e-7"),
    ("1e-05", "0.00001"),
    ("1e-06", "0.000001"),
    ("1e+16", "10000000000000000"),
    ("1e+20", "100000000000000000000"),
    ("123.456", "123.456"),
    ("-0.0", "0"),
    ("0.0000001", "1e-7"),
    ("1.50", "1.5"),
    ("100.0", "100"),
    ("0.1234567890123456789", "0.12345678901234568"),
    ("5e-324", "5e-324"),
    ("1.7976931348623157e+308", "1.7976931348623157e+308"),
    ("-2.5e-10", "-2.5e-10"),
    ("0.001", "0.001"),
    ("12345678901234567890.5", "12345678901234567000"),
    ("-3", "-3"),
]


@pytest.mark.parametrize(("token", "written"), AS_NODE_WRITES)
def test_a_number_is_written_as_javascript_writes_it(token: str, written: str) -> None:
    assert number(token) == written


@pytest.mark.parametrize(
    "token", ["9007199254740993", "123456789012345678901234567", "-12345678901234567890123"]
)
def test_an_integer_a_double_does_not_hold_keeps_every_digit(token: str) -> None:
    assert number(token) == token


def test_any_double_reads_back_as_itself() -> None:
    rng = random.Random(23)
    for _ in range(5000):
        value = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if value != value or value in (float("inf"), float("-inf")):
            continue
        assert float(number(repr(value))) == value


def test_answers_write_numbers_so_and_leave_strings_alone() -> None:
    body = {"a": 1.5e300, "b": 10**21, "c": 1.0, "d": [1e-07, 2], "s": "ratio: 1.0, [1e-07]"}

    text = encode_json(body)

    assert text == (
        '{"a": 1.5e+300, "b": 1e+21, "c": 1, "d": [1e-7, 2], "s": "ratio: 1.0, [1e-07]"}'
    )
    assert json.loads(text) == body


def test_text_without_such_numbers_is_left_as_it_is() -> None:
    text = '{"createdAt": "2026-01-05T10:00:00.120Z", "n": 12.5, "id": "3e4a", "big": 2}'
    assert as_javascript(text) is text
