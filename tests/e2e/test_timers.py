"""A real `taskflow serve` fires a timer by itself, within about a second of its due time."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.e2e.serving import clean_env, free_port, serving
from tests.e2e.test_serve import call

pytestmark = pytest.mark.e2e

HOST_MODULE = """
from datetime import timedelta

from taskflow_compose import database_url, store_from_url
from taskflow_core import Taskflow

flow = Taskflow(store_from_url(database_url()))

@flow.hook("create")
def remind_soon(event):
    event.set_timer("soon", timedelta(seconds=1))

@flow.hook("timer:soon")
def mark(event):
    event.patch({"reminded": True})
"""


def test_serve_fires_a_timer_due_in_a_second_with_no_other_process(tmp_path: Path) -> None:
    (tmp_path / "e2e_timers_host.py").write_text(textwrap.dedent(HOST_MODULE))
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("taskflow")),
        "serve",
        "--app",
        "e2e_timers_host:flow",
        "--port",
        str(port),
        "--dsn",
        f"sqlite:///{tmp_path / 'timers.db'}",
        "--workers",
        "2",
    ]
    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        status, created = call("POST", server.url + "/", {"a": 1})
        assert status == 200, created
        case_id = created["data"]["id"]
        created_at = time.monotonic()
        fired = None
        while time.monotonic() - created_at < 10:
            _, case = call("GET", f"{server.url}/{case_id}")
            if case["data"]["data"].get("reminded"):
                fired = time.monotonic() - created_at
                break
            time.sleep(0.1)
        _, timers = call("GET", f"{server.url}/{case_id}/timers")

    assert fired is not None, server.log
    # Due after 1 s; sweeps every half second: well inside 3 s even on a loaded machine.
    assert fired < 3.0, fired
    events = [entry["eventName"] for entry in case["data"]["activityLog"]]
    assert events == ["update", "timer:soon", "create"]
    assert timers == {"data": []}
