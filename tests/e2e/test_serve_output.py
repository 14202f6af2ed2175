"""What a real ``taskflow serve`` prints: a line per request, and the app's own log records."""

from __future__ import annotations

import re
import textwrap
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.serving import clean_env, exchange, free_port, serving, stop, taskflow_command

pytestmark = pytest.mark.e2e

# gunicorn's own shape of line, with the logger's name: time, process, level, name, message.
LINE = r"\[[-\d: +]+\] \[\d+\] \[{level}\] {name}: {message}"


def get(url: str, request_id: str) -> int:
    request = urllib.request.Request(url, headers={"X-Request-Id": request_id})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["X-Request-Id"] == request_id
        return response.status


def test_each_request_prints_one_access_line_with_method_path_status_duration_and_request_id(
    tmp_path: Path,
) -> None:
    port = free_port()
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "1"]

    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        assert get(f"{server.url}/?status=new", "e2e-access-42") == 200
        assert stop(server) == 0

    access = LINE.format(
        level="INFO",
        name=re.escape("taskflow.access"),
        message=r"GET /\?status=new 200 \d+\.\dms e2e-access-42",
    )
    assert len(re.findall(rf"^{access}$", server.log, re.MULTILINE)) == 1, server.log


def test_a_request_the_server_refuses_before_the_app_is_in_the_access_log_once(
    tmp_path: Path,
) -> None:
    port = free_port()
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "1"]

    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        # A length that is not a number: gunicorn refuses it before any app code runs.
        answer = exchange(port, b"GET /?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n")
        assert answer.status == 400
        assert stop(server) == 0

    access = LINE.format(
        level="INFO",
        name=re.escape("taskflow.access"),
        # Its method and target when the parser got that far (gunicorn's Python parser
        # does; its optional C parser does not say).
        message=r"(GET /\?q=1|- -) 400 \d+\.\dms [0-9a-f]{32}",
    )
    assert len(re.findall(rf"^{access}$", server.log, re.MULTILINE)) == 1, server.log
    # gunicorn's own access line (Apache's format) is not printed beside it.
    assert '"GET /?q=1 HTTP/1.1" 400' not in server.log


HOST_MODULE = """
import logging

from taskflow_compose import database_url, store_from_url
from taskflow_core import Taskflow

logger = logging.getLogger(__name__)
flow = Taskflow(store_from_url(database_url()))


@flow.hook("pre-create")
def too_early(event):
    event.set_status("open")  # ignored before the case exists, with a warning of taskflow's


@flow.hook("create")
def tell(event):
    logger.info("created a case for %s", event.data["name"])
"""


def test_without_the_access_log_the_apps_records_are_still_printed_with_name_and_level(
    tmp_path: Path,
) -> None:
    (tmp_path / "output_host.py").write_text(textwrap.dedent(HOST_MODULE))
    port = free_port()
    command = [
        *taskflow_command(),
        "serve",
        "--port",
        str(port),
        "--workers",
        "1",
        "--app",
        "output_host:flow",
        "--no-access-log",
    ]

    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        request = urllib.request.Request(
            server.url + "/", data=b'{"name": "Ada"}', method="POST",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        assert stop(server) == 0

    log = server.log
    warning = LINE.format(
        level="WARNING", name=re.escape("taskflow_core.domain.events"), message=r"set_status\(\) .*"
    )
    info = LINE.format(level="INFO", name="output_host", message="created a case for Ada")
    assert re.search(rf"^{warning}$", log, re.MULTILINE), log
    assert re.search(rf"^{info}$", log, re.MULTILINE), log
    assert "taskflow.access" not in log
