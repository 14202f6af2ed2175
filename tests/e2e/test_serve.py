"""``taskflow serve`` for real: gunicorn on a free port, spoken to over HTTP, stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest

pytestmark = pytest.mark.e2e

STARTUP_SECONDS = 60
SHUTDOWN_SECONDS = 30


def taskflow_command() -> list[str]:
    script = Path(sys.executable).with_name("taskflow")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from taskflow_cli.main import cli; cli()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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


@attrs.define
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_until_answering(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"server exited with {server.process.returncode}:\n{server.log}")
        try:
            with urllib.request.urlopen(server.url + "/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"server did not answer within {STARTUP_SECONDS}s:\n{server.log}")


@contextmanager
def serving(command: list[str], *, cwd: Path, env: dict[str, str], port: int) -> Iterator[Server]:
    """Start the server, wait for it to answer, and stop it with SIGTERM afterwards."""
    log_path = cwd / f"server-{port}.log"
    with log_path.open("wb") as log:
        # Output to a file: a pipe nobody reads would block gunicorn once it fills.
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=log)
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_until_answering(server)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=SHUTDOWN_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"server ignored SIGTERM for {SHUTDOWN_SECONDS}s:\n{server.log}")


def stop(server: Server) -> int:
    server.process.send_signal(signal.SIGTERM)
    return server.process.wait(timeout=SHUTDOWN_SECONDS)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKFLOW_")}
    return {**env, **extra}


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


def test_gunicorn_serves_the_get_app_factory_configured_by_the_environment(
    tmp_path: Path,
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
        "gthread",
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
