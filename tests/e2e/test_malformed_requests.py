"""Requests gunicorn refuses before the app sees them are answered in JSON like the app's."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.serving import Server, clean_env, exchange, free_port, serving, taskflow_command

pytestmark = pytest.mark.e2e

GET = b"GET / HTTP/1.1\r\nHost: x\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "1"]
    cwd = tmp_path_factory.mktemp("malformed")
    with serving(command, cwd=cwd, env=clean_env(), port=port) as running:
        yield running


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        pytest.param(b"GARBAGE\r\n\r\n", 400, id="malformed request line"),
        pytest.param(b"GET / HTTP/1.1\nHost: x\n\n", 400, id="bare LF line ends"),
        pytest.param(GET + b"Bad Name: y\r\n\r\n", 400, id="malformed header name"),
        pytest.param(
            b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            414,
            id="request line over 4 KiB",
        ),
        pytest.param(
            GET + b"".join(b"X-%d: y\r\n" % n for n in range(101)) + b"\r\n",
            431,
            id="more than 100 header fields",
        ),
        pytest.param(
            GET + b"X-Big: " + b"y" * 9000 + b"\r\n\r\n", 431, id="header field over 8 KiB"
        ),
    ],
)
def test_a_request_gunicorn_refuses_is_answered_with_a_json_message(
    server: Server, request_bytes: bytes, status: int
) -> None:
    answer = exchange(server.port, request_bytes)

    assert answer.status == status
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert int(answer.headers["content-length"]) == len(answer.body)
    body = json.loads(answer.body)
    assert set(body) == {"message"}
    assert isinstance(body["message"], str)
    assert body["message"]


def test_the_refused_request_is_not_quoted_back(server: Server) -> None:
    # gunicorn's own page repeats the offending line; ours says what was wrong, not what.
    answer = exchange(server.port, b"GET /" + b"<script>" * 600 + b" HTTP/1.1\r\n\r\n")

    assert answer.status == 414
    assert b"script" not in answer.body


def test_the_server_goes_on_answering_after_refusing_requests(server: Server) -> None:
    exchange(server.port, b"GARBAGE\r\n\r\n")

    answer = exchange(server.port, GET + b"Connection: close\r\n\r\n")

    assert answer.status == 200
    assert json.loads(answer.body)["meta"] == {"count": 0}
    assert "Traceback" not in server.log
