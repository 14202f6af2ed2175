"""``taskflow serve`` for real: gunicorn on a free port, spoken to over HTTP, stopped by SIGTERM."""

from __future__ import annotations

import json
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.serving import clean_env, free_port, serving, stop, taskflow_command

pytestmark = pytest.mark.e2e


def call(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def exercise(url: str) -> None:
    """Create, change status, comment and list over real HTTP."""
    status, created = call("POST", url + "/", {"model": "pil", "name": "e2e"})
    assert status == 200, created
    case_id = created["data"]["id"]
    assert created["data"]["status"] == "new"

    status, changed = call("PUT", f"{url}/{case_id}/status", {"status": "submitted"})
    assert status == 200, changed
    assert changed["data"]["status"] == "submitted"

    status, commented = call("POST", f"{url}/{case_id}/comment", {"comment": "over the wire"})
    assert status == 200, commented
    events = [e["eventName"] for e in commented["data"]["activityLog"]]
    assert events == ["comment", "status:new:submitted", "create"]

    status, listing = call("GET", url + "/?status=submitted&data[model]=pil")
    assert status == 200, listing
    assert [c["id"] for c in listing["data"]] == [case_id]
    assert listing["meta"] == {"count": 1}

    status, missing = call("GET", f"{url}/not-a-case")
    assert status == 404
    assert set(missing) == {"message"}


@pytest.mark.postgres
def test_serves_postgres_over_http_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
    postgres_dsn: str,
) -> None:
    port = free_port()
    command = [
        *taskflow_command(),
        "serve",
        "--dsn",
        postgres_dsn,
        "--port",
        str(port),
        "--workers",
        "2",
        "--threads",
        "2",
    ]

    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        exercise(server.url)
        assert stop(server) == 0

    assert f"taskflow listening on http://127.0.0.1:{port}" in server.log
    assert "Traceback" not in server.log


def test_serves_sqlite_in_the_working_directory_with_no_configuration(tmp_path: Path) -> None:
    port = free_port()
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "2"]

    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        exercise(server.url)
        assert stop(server) == 0

    assert (tmp_path / "taskflow.db").exists()
    assert "Traceback" not in server.log


HOST_MODULE = """
from taskflow_compose import database_url, store_from_url
from taskflow_core import Taskflow

flow = Taskflow(store_from_url(database_url()))

@flow.hook("create")
def stamp(event):
    event.patch({"stamped": True})

flow.decorate(lambda case, user: {**case, "host": "e2e"})
"""


def test_serves_a_host_modules_flow_with_its_hooks_and_decorators(tmp_path: Path) -> None:
    (tmp_path / "e2e_host.py").write_text(textwrap.dedent(HOST_MODULE))
    port = free_port()
    # The installed console script, whose sys.path does not start with the working
    # directory: the host module there must still be found, as gunicorn's command finds it.
    command = [
        str(Path(sys.executable).with_name("taskflow")),
        "serve",
        "--app",
        "e2e_host:flow",
        "--port",
        str(port),
        "--dsn",
        f"sqlite:///{tmp_path / 'host.db'}",
        "--workers",
        "1",
    ]
    env = clean_env()

    with serving(command, cwd=tmp_path, env=env, port=port) as server:
        status, created = call("POST", server.url + "/", {"a": 1})
        assert stop(server) == 0

    assert status == 200, created
    assert created["data"]["data"] == {"a": 1, "stamped": True}
    assert created["data"]["host"] == "e2e"
    assert (tmp_path / "host.db").exists()


@pytest.mark.parametrize("worker_class", ["gthread", "taskflow_cli.worker.HeadFirstWorker"])
def test_gunicorn_serves_the_get_app_factory_configured_by_the_environment(
    tmp_path: Path, worker_class: str
) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--worker-class",
        worker_class,
        "--threads",
        "2",
        "taskflow_falcon.app:get_app()",
    ]
    if _gunicorn_has_control_socket():
        command.insert(3, "--no-control-socket")
    env = clean_env(TASKFLOW_DATABASE_URL=f"sqlite:///{tmp_path / 'factory.db'}")

    with serving(command, cwd=tmp_path, env=env, port=port) as server:
        exercise(server.url)
        assert stop(server) == 0

    assert (tmp_path / "factory.db").exists()


def _gunicorn_has_control_socket() -> bool:
    from gunicorn.config import Config

    return "control_socket_disable" in Config().settings
