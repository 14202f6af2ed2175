"""Taking cases out (SPEC §18), on every store: ``flow.export`` reads every matching case a
page at a time by id, and ``export.write`` writes them as NDJSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from taskflow_core import BusinessDays, InvalidRequest, Taskflow
from taskflow_core.application import export as export_module
from taskflow_core.application import query as query_module
from taskflow_core.application.export import write
from taskflow_core.domain.wire import encode_json
from tests.contract.conftest import ALICE


def make(flow: Taskflow, count: int, **data: Any) -> list[str]:
    return [flow.create({"n": n, **data}, user=ALICE)["id"] for n in range(count)]


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of three cases, read within a budget of one case: every page and every
    deferred batch of the export's paging is gone through with a handful of cases."""
    monkeypatch.setattr(export_module, "PAGE_SIZE", 3)
    monkeypatch.setattr(query_module, "LISTING_BUDGET", 1)


class TestExport:
    def test_every_matching_case_comes_once_in_id_order_whatever_the_paging(
        self, flow: Taskflow, small_pages: None
    ) -> None:
        dogs = make(flow, 7, kind="dog")
        make(flow, 2, kind="cat")

        exported = list(flow.export({"data": {"kind": "dog"}, "limit": 2, "offset": 1}))

        assert [case["id"] for case in exported] == sorted(dogs)
        assert exported[0] == {
            k: v for k, v in flow.get(exported[0]["id"]).items() if k != "activityLog"
        }

    def test_an_export_of_exactly_full_pages_ends(self, flow: Taskflow, small_pages: None) -> None:
        ids = make(flow, 6)
        assert [case["id"] for case in flow.export()] == sorted(ids)

    def test_as_json_text_each_case_is_the_text_of_what_export_iterates(
        self, flow: Taskflow, small_pages: None
    ) -> None:
        ids = make(flow, 7, big=10**21, small=1.5e-7, text="é\u2028")
        flow.update(ids[3], {"nested": {"a": [1.0, None]}}, user=ALICE)

        texts = list(flow.export_json({"limit": 1}))

        assert [json.loads(text) for text in texts] == list(flow.export())
        assert [json.loads(text)["id"] for text in texts] == sorted(ids)
        assert texts[0] == encode_json(json.loads(texts[0]))  # numbers as JavaScript's

    def test_each_case_and_its_csv_row_are_what_reading_the_case_gives(
        self, flow: Taskflow, small_pages: None
    ) -> None:
        # Numbers a store may write otherwise than it reads them (PostgreSQL writes a page's
        # JSON itself): the values, their types and so the CSV's bytes must not change.
        datas = [
            {"one": 1.0, "big": 10**21, "small": 1.5e-7, "huge": 2**60 + 1, "text": "é\u2028"},
            {"nested": {"a": [1.0, None, 10**21, 0.1]}, "one": 2, "flag": False, "t": "=1"},
            {"one": 3.25, "big": -(10**22), "none": None},
            {},
        ]
        ids = [flow.create(data, user=ALICE)["id"] for data in datas]

        exported = list(flow.export())

        read = [
            {k: v for k, v in flow.get(case_id).items() if k != "activityLog"}
            for case_id in sorted(ids)
        ]
        assert [repr(case) for case in exported] == [repr(case) for case in read]
        from_export, from_reads = io.StringIO(), io.StringIO()
        write(exported, "csv", from_export)
        write(read, "csv", from_reads)
        assert from_export.getvalue() == from_reads.getvalue()

    def test_as_json_text_decorated_cases_are_decorated(self, flow: Taskflow) -> None:
        flow.decorate(lambda case, user: {**case, "seen": True})
        make(flow, 2)
        assert all(json.loads(text)["seen"] for text in flow.export_json())

    def test_nothing_matching_exports_nothing(self, flow: Taskflow) -> None:
        make(flow, 2)
        assert list(flow.export({"status": "nowhere"})) == []

    def test_a_case_changed_while_the_export_runs_comes_once(
        self, flow: Taskflow, small_pages: None
    ) -> None:
        ids = sorted(make(flow, 7))
        cases = flow.export({"sort": {"column": "updatedAt"}})
        seen = [next(cases)["id"]]
        # Changed after the export read it: under a sort by updatedAt it would come again.
        flow.update(ids[0], {"changed": True}, user=ALICE)
        flow.update(ids[5], {"changed": True}, user=ALICE)
        rest = list(cases)
        seen += [case["id"] for case in rest]

        assert seen == ids
        assert next(c for c in rest if c["id"] == ids[5])["data"]["changed"] is True

    def test_cases_come_decorated_as_a_listing_shows_them(self, flow: Taskflow) -> None:
        flow.decorate(lambda case, user: {**case, "viewer": user["profile"]["id"]})
        flow.decorate(lambda case, user: {**case, "single": True}, list=False)
        make(flow, 2)

        exported = list(flow.export(user=ALICE))

        assert {case["viewer"] for case in exported} == {"alice"}
        assert all("single" not in case and "activityLog" not in case for case in exported)

    def test_cases_come_with_their_deadlines(self, flow: Taskflow, small_pages: None) -> None:
        flow.deadline("decision", within=BusinessDays(5), starts=["submitted"])
        ids = make(flow, 4)
        flow.set_status(ids[2], "submitted", user=ALICE)

        exported = {case["id"]: case for case in flow.export()}

        assert exported[ids[2]]["deadlines"][0]["state"] == "running"
        assert exported[ids[0]]["deadlines"][0]["state"] is None

    def test_a_bad_query_is_refused_before_anything_is_read(self, flow: Taskflow) -> None:
        with pytest.raises(InvalidRequest):
            flow.export({"sort": {"column": "nonsense"}})
        with pytest.raises(InvalidRequest):
            flow.export({"view": "unknown"})


class TestWriting:
    def test_ndjson_is_one_case_a_line(self, flow: Taskflow) -> None:
        ids = make(flow, 3, text="a\nb")
        out = io.StringIO()

        assert write(flow.export(), "ndjson", out) == 3

        lines = out.getvalue().splitlines()
        assert [json.loads(line)["id"] for line in lines] == sorted(ids)
        assert json.loads(lines[0])["data"]["text"] == "a\nb"

    def test_csv_has_the_case_columns_and_one_per_data_key_of_the_first_rows(
        self, flow: Taskflow, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(export_module, "CSV_HEADER_ROWS", 2)
        datas = [{"a": 1, "nested": {"x": [1, 2]}}, {"b": True, "a": 2.5}, {"c": "x", "a": None}]
        made = {flow.create(data, user=ALICE)["id"]: data for data in datas}
        first, second, last = sorted(made)
        flow.assign(first, "bob", user=ALICE)
        out = io.StringIO()

        write(flow.export(), "csv", out)

        rows = list(csv.reader(io.StringIO(out.getvalue())))
        header, body = rows[0], rows[1:]
        assert header[:5] == ["id", "status", "assignedTo", "createdAt", "updatedAt"]
        # The keys of the first two cases (in id order); in the order first seen in the data
        # as stored (PostgreSQL's jsonb keeps its own order of keys).
        keys = sorted({*made[first], *made[second]})
        assert sorted(header[5:]) == [f"data.{key}" for key in keys]
        assert [row[0] for row in body] == [first, second, last]
        listed = {c["id"]: c for c in flow.list()["data"]}
        cells = {"a": {1: "1", 2.5: "2.5"}, "b": {True: "true"}, "c": {"x": "x"}}
        for row in body:
            named = dict(zip(header, row, strict=True))
            case = listed[row[0]]
            assert named["status"] == case["status"]
            assert named["assignedTo"] == (case["assignedTo"] or "")
            assert named["createdAt"] == case["createdAt"]
            for key in keys:
                value = case["data"].get(key)
                if key == "nested":
                    want = "" if value is None else '{"x": [1, 2]}'
                else:
                    want = cells[key].get(value, "") if value is not None else ""
                assert named[f"data.{key}"] == want
        if "c" not in made[first] and "c" not in made[second]:
            assert "data.c" not in header  # only the later case has it: no column

    def test_csv_quotes_commas_quotes_and_newlines_and_defuses_formulas(
        self, flow: Taskflow
    ) -> None:
        texts = ["Smith, J", 'say "hi"', "two\nlines", "=HYPERLINK(1)", "+1", "-2", "@x", "plain"]
        for text in texts:
            flow.create({"text": text}, user=ALICE)
        out = io.StringIO()

        write(flow.export(), "csv", out)

        assert "\r\n" in out.getvalue()  # RFC 4180 line ends
        rows = list(csv.reader(io.StringIO(out.getvalue())))
        column = rows[0].index("data.text")
        got = sorted(row[column] for row in rows[1:])
        want = [
            "Smith, J",
            'say "hi"',
            "two\nlines",
            "'=HYPERLINK(1)",
            "'+1",
            "'-2",
            "'@x",
            "plain",
        ]
        assert got == sorted(want)

    def test_csv_writes_a_negative_number_as_the_number_it_is(self, flow: Taskflow) -> None:
        flow.create({"balance": -3, "rate": -0.5, "big": -(2**60)}, user=ALICE)
        out = io.StringIO()
        write(flow.export(), "csv", out)
        (row,) = csv.DictReader(io.StringIO(out.getvalue()))
        assert (row["data.balance"], row["data.rate"]) == ("-3", "-0.5")
        assert row["data.big"] == str(-(2**60))

    def test_csv_of_nothing_is_its_header(self, flow: Taskflow) -> None:
        out = io.StringIO()
        assert write(flow.export(), "csv", out) == 0
        assert out.getvalue() == "id,status,assignedTo,createdAt,updatedAt\r\n"

    def test_an_unknown_format_is_refused(self, flow: Taskflow) -> None:
        with pytest.raises(InvalidRequest):
            write(flow.export(), "xlsx", io.StringIO())
