"""``taskflow serve`` serves the case browser, forms included, and ``--no-ui`` leaves the
pages out. (That every worker accepts another's forms, one secret for all, is
tests/ui/test_switches.py's: which worker takes a connection is not ours to choose.)"""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.e2e.serving import clean_env, free_port, serving, taskflow_command

pytestmark = pytest.mark.e2e


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], str]:
    # A new connection each time: gunicorn's workers take them in turn.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read().decode()
    finally:
        connection.close()


def test_forms_work_under_serve(tmp_path: Path) -> None:
    port = free_port()
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "2"]
    with serving(command, cwd=tmp_path, env=clean_env(), port=port):
        status, _, body = request(
            port,
            "POST",
            "/",
            json.dumps({"title": "Over the wire"}).encode(),
            {"Content-Type": "application/json"},
        )
        assert status == 200, body
        case_id = json.loads(body)["data"]["id"]
        status, headers, page = request(port, "GET", f"/ui/cases/{case_id}")
        assert status == 200
        cookie = headers["set-cookie"].split(";", 1)[0]
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
        assert token
        for n in range(6):
            version = json.loads(request(port, "GET", f"/{case_id}")[2])["data"]["version"]
            form = urlencode(
                {"csrf_token": token.group(1), "version": version, "comment": f"note {n}"}
            )
            status, headers, body = request(
                port,
                "POST",
                f"/ui/cases/{case_id}/comment",
                form.encode(),
                {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
            )
            assert status == 303, body
        status, _, page = request(port, "GET", f"/ui/cases/{case_id}")
        assert page.count('<li class="comment') == 6


def test_no_ui_leaves_the_pages_out(tmp_path: Path) -> None:
    port = free_port()
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "1", "--no-ui"]
    with serving(command, cwd=tmp_path, env=clean_env(), port=port):
        status, headers, _ = request(port, "GET", "/ui/")
        assert status == 404
        assert headers["content-type"].startswith("application/json")
