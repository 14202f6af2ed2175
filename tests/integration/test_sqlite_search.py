"""Search on SQLite (migrations/0007_search.sql): cases written before the migration are
found after it, with their comments as edited, and the index follows every later change."""

from pathlib import Path

import pytest

from taskflow_core import Taskflow
from taskflow_sqlite import SqliteStore, migrations


def ids(flow: Taskflow, q: str) -> list[str]:
    return [case["id"] for case in flow.list({"q": q})["data"]]


def test_cases_from_before_the_migration_are_found_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = migrations.available()
    older = [(name, script) for name, script in shipped if name < "0007"]
    monkeypatch.setattr(migrations, "available", lambda: older)
    store = SqliteStore(tmp_path / "old.db")
    try:
        flow = Taskflow(store)
        alice = {"profile": {"id": "alice"}}
        case = flow.create({"applicant": "Ada Lovelace"})
        flow.comment(case["id"], "draft note", user=alice)
        log = flow.get(case["id"])["activityLog"]
        comment_id = next(e["id"] for e in log if e["eventName"] == "comment")
        flow.update_comment(case["id"], comment_id, "final note", user=alice)
        other = flow.create({"applicant": "Alan Turing"})

        monkeypatch.setattr(migrations, "available", lambda: shipped)
        assert store.migrate()[0] == "0007_search"  # then the migrations shipped after it
        assert ids(flow, "ada final") == [case["id"]]
        assert ids(flow, "draft") == []
        assert ids(flow, "turing") == [other["id"]]
        flow.update(other["id"], {"applicant": "Grace Hopper"})
        assert ids(flow, "turing") == []
        assert ids(flow, "hop") == [other["id"]]
    finally:
        store.close()
