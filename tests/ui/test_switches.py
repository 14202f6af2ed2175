"""Turning the case browser off, and how a case is titled (SPEC §15)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlencode

import falcon.testing
import pytest
from click.testing import CliRunner

from taskflow_cli.serve import serve
from taskflow_compose.wsgi import app_from_env
from taskflow_core import Taskflow
from taskflow_core.domain.titles import default_title
from taskflow_core.memory import MemoryStore
from tests.ui.support import token_of, version_of


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


def test_every_app_built_from_the_environment_takes_the_others_forms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What serve's workers do: each builds its app from the environment serve set up, so a
    form one renders must be taken by another."""
    monkeypatch.setenv("TASKFLOW_DATABASE_URL", f"sqlite:///{tmp_path}/t.db")
    monkeypatch.delenv("TASKFLOW_APP", raising=False)
    # serve sets these for its workers in os.environ: put back as they were afterwards.
    for name in (
        "TASKFLOW_UI_SECRET",
        "TASKFLOW_UI",
        "TASKFLOW_FEED",
        "TASKFLOW_POOL_SIZE",
        "TASKFLOW_HEADER_TIMEOUT",
        "TASKFLOW_BODY_TIMEOUT",
    ):
        monkeypatch.delenv(name, raising=False)
    captured: dict[str, str | None] = {}

    def run(self: object) -> None:
        captured["secret"] = os.environ.get("TASKFLOW_UI_SECRET")

    monkeypatch.setattr("taskflow_cli.serve.TaskflowServer.run", run)
    result = CliRunner().invoke(serve, ["--port", "0"])
    assert result.exit_code == 0, result.output
    secret = captured["secret"]
    assert secret
    assert len(secret) >= 32
    one, other = (falcon.testing.TestClient(app_from_env()) for _ in range(2))
    case_id = one.simulate_post("/", json={"title": "x"}).json["data"]["id"]
    page = one.simulate_get(f"/ui/cases/{case_id}")
    cookie = page.cookies["taskflow_csrf"].value
    form = {"csrf_token": token_of(page.text), "version": version_of(page.text), "comment": "hi"}
    posted = other.simulate_post(
        f"/ui/cases/{case_id}/comment",
        body=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        cookies={"taskflow_csrf": cookie},
    )
    assert posted.status_code == 303, posted.text
    # Without the shared secret, each app makes its own, and the other refuses the form.
    monkeypatch.delenv("TASKFLOW_UI_SECRET")
    lone = falcon.testing.TestClient(app_from_env())
    refused = lone.simulate_post(
        f"/ui/cases/{case_id}/comment",
        body=urlencode({**form, "version": str(int(form["version"]) + 1)}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        cookies={"taskflow_csrf": cookie},
    )
    assert refused.status_code == 403
