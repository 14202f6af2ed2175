"""Turning the case browser off, and how a case is titled (SPEC §15)."""

from __future__ import annotations

from pathlib import Path

import falcon.testing
import pytest
from click.testing import CliRunner

from taskflow_cli.serve import serve
from taskflow_compose.wsgi import app_from_env
from taskflow_core import Taskflow
from taskflow_core.domain.titles import default_title
from taskflow_core.memory import MemoryStore


@pytest.mark.parametrize(
    ("value", "served"), [("0", False), ("off", False), ("1", True), ("", True)]
)
def test_get_app_serves_the_pages_unless_told_not_to(
    value: str, served: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKFLOW_DATABASE_URL", f"sqlite:///{tmp_path}/t.db")
    monkeypatch.delenv("TASKFLOW_APP", raising=False)
    monkeypatch.setenv("TASKFLOW_UI", value)
    client = falcon.testing.TestClient(app_from_env())
    client.app.taskflow.migrate()
    result = client.simulate_get("/ui/")
    assert result.status_code == (200 if served else 404)
    assert result.headers["content-type"].startswith("text/html" if served else "application/json")


def test_serve_has_a_no_ui_switch() -> None:
    assert "--ui / --no-ui" in CliRunner().invoke(serve, ["--help"]).output


@pytest.mark.parametrize(
    ("data", "title"),
    [
        ({"title": "T", "subject": "S", "name": "N"}, "T"),
        ({"subject": "S", "name": "N"}, "S"),
        ({"name": "N"}, "N"),
        ({"title": "  ", "name": "N"}, "N"),
        ({"title": 42}, "42"),
        ({"title": None, "other": "x"}, "the-id"),
        ({"title": {"nested": 1}}, "the-id"),
    ],
)
def test_the_default_title(data: dict[str, object], title: str) -> None:
    assert default_title({"id": "the-id", "data": data}) == title


def test_a_title_function_and_its_fallback() -> None:
    flow = Taskflow(MemoryStore())
    case = flow.create({"name": "Ada", "ref": ""})
    assert flow.title_of(case) == "Ada"
    assert flow.title(lambda c: c["data"]["ref"] or None) is flow
    assert flow.title_of(case) == "Ada"  # blank answers fall back
    flow.title(lambda c: f"#{c['data']['name'].upper()}")
    assert flow.title_of(case) == "#ADA"
    flow.title(None)
    assert flow.title_of(case) == "Ada"
    with pytest.raises(TypeError):
        flow.title("not callable")  # type: ignore[arg-type]
