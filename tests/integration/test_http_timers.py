"""Timers over HTTP: ``GET /{id}/timers``, and `taskflow timers` on its own."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import falcon.testing
from click.testing import CliRunner

from taskflow_cli.main import cli
from taskflow_core import HookEvent, Taskflow
from taskflow_sqlite import SqliteStore
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import assert_json_error, create_case
from tests.stores import store  # noqa: F401 (every store: these answers depend on it)

Client = falcon.testing.TestClient


def remind(event: HookEvent) -> None:
    event.set_timer("reminder", timedelta(days=7))


class TestTimersRoute:
    def test_a_cases_timers_are_listed(self, client: Client, flow: Taskflow) -> None:
        flow.hook("create", remind)
        case = create_case(client)
        result = client.simulate_get(f"/{case['id']}/timers")
        assert result.status_code == 200, result.text
        [timer] = result.json["data"]
        assert timer["name"] == "reminder"
        assert timer["due"] > case["createdAt"]

    def test_a_case_without_timers_has_an_empty_list(self, client: Client) -> None:
        case = create_case(client)
        assert client.simulate_get(f"/{case['id']}/timers").json == {"data": []}

    def test_an_unknown_case_is_404(self, client: Client) -> None:
        result = client.simulate_get("/00000000-0000-4000-8000-000000000000/timers")
        assert_json_error(result, 404)
        assert_json_error(client.simulate_get("/not-an-id/timers"), 404)


HOST_MODULE = """
from datetime import timedelta
from taskflow_core import Taskflow
from taskflow_sqlite import SqliteStore

flow = Taskflow(SqliteStore({path!r}))
flow.hook("create", lambda event: event.set_timer("late", timedelta(seconds=-1)))
"""


def test_taskflow_timers_once_fires_what_is_due(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "t.db"
    (tmp_path / "host_for_timers.py").write_text(HOST_MODULE.format(path=str(db)))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    from host_for_timers import flow  # type: ignore[import-not-found]

    case = flow.create({})
    result = CliRunner().invoke(cli, ["timers", "--once", "--app", "host_for_timers:flow"])
    assert result.exit_code == 0, result.output
    assert result.output == "fired 1 timer(s)\n"
    fired = Taskflow(SqliteStore(db)).get(case["id"])
    assert fired["activityLog"][0]["eventName"] == "timer:late"


def test_taskflow_timers_with_a_broken_app_is_one_line(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["timers", "--once", "--app", "no_such_module_here:flow"])
    assert result.exit_code == 1
    assert "cannot load the app" in result.output
    assert "Traceback" not in result.output
