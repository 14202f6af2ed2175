"""A real ``taskflow serve`` whose PostgreSQL goes away behind a TCP proxy, and comes back."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.e2e.test_serve import clean_env, free_port, serving, stop, taskflow_command
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

OUTAGE_ANSWER_SECONDS = 5.0
RECOVERY_SECONDS = 1.0


def call(method: str, url: str, body: Any = None) -> tuple[int, dict[str, str], Any, float]:
    """Status, headers (names in lowercase), JSON body and how long the answer took."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    lowered = {name.lower(): value for name, value in headers.items()}
    return status, lowered, json.loads(raw), time.monotonic() - started


def test_serve_answers_503_while_postgres_is_away_and_serves_as_soon_as_it_is_back(
    tmp_path: Path, postgres_dsn: str, postgres_proxy: TcpProxy
) -> None:
    params = conninfo_to_dict(postgres_dsn)
    dsn = f"postgresql://{params['user']}@127.0.0.1:{postgres_proxy.port}/{params['dbname']}"
    port = free_port()
    command = [
        *taskflow_command(),
        "serve",
        "--dsn",
        dsn,
        "--port",
        str(port),
        "--workers",
        "2",
        "--threads",
        "2",
    ]

    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        status, _, created, _ = call("POST", server.url + "/", {"before": "outage"})
        assert status == 200, created
        case_url = f"{server.url}/{created['data']['id']}"

        postgres_proxy.stop()
        # Enough requests that both workers see the outage, some on connections that sat
        # idle for over a second.
        for attempt in range(10):
            method, url, body = [
                ("GET", case_url, None),
                ("POST", server.url + "/", {"during": "outage"}),
                ("PUT", case_url + "/status", {"status": "open"}),
            ][attempt % 3]
            status, headers, answer, seconds = call(method, url, body)
            assert status == 503, answer
            assert int(headers["retry-after"]) > 0
            assert set(answer) == {"message"}
            assert str(postgres_proxy.port) not in answer["message"]
            assert seconds < OUTAGE_ANSWER_SECONDS
            time.sleep(0.3)

        postgres_proxy.start()
        back = time.monotonic()
        status, _, answer, _ = call("PUT", case_url + "/status", {"status": "open"})
        assert status == 200, answer
        assert time.monotonic() - back < RECOVERY_SECONDS
        # The other worker recovers as promptly.
        for _ in range(6):
            status, _, answer, seconds = call("GET", case_url)
            assert status == 200, answer
            assert seconds < RECOVERY_SECONDS
        assert answer["data"]["status"] == "open"
        assert stop(server) == 0

    assert "Traceback" not in server.log
    assert "answered 503" in server.log
