"""``GET /_changes?wait=`` under ``taskflow serve``: a reader held open in one worker is
answered when another worker commits, and readers never take every thread."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import make_conninfo

from tests.e2e.serving import clean_env, free_port, serving, stop, taskflow_command
from tests.support.hold_transaction import HeldTransaction

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=40) as response:
        return json.loads(response.read())


def post(url: str, body: Any) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_waiting_reader_is_answered_when_any_worker_commits(
    tmp_path: Path, postgres_dsn: str
) -> None:
    port = free_port()
    command = [
        *taskflow_command(),
        *("serve", "--dsn", postgres_dsn, "--port", str(port), "--workers", "2"),
        *("--threads", "4"),
    ]
    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        case = post(server.url + "/", {"n": 1})["data"]
        cursor = None
        deadline = time.monotonic() + 20
        while cursor is None and time.monotonic() < deadline:
            cursor = get(server.url + "/_changes?wait=5")["meta"]["next"]
        assert cursor is not None

        answers: list[tuple[float, Any]] = []

        def wait_for_more() -> None:
            # As a consumer does: ask again after an empty answer.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                page = get(f"{server.url}/_changes?after={cursor}&wait=25")
                if page["data"]:
                    answers.append((time.monotonic(), page))
                    return

        # More readers than a worker has threads: the write must still be answered at once.
        readers = [threading.Thread(target=wait_for_more) for _ in range(6)]
        for reader in readers:
            reader.start()
        time.sleep(1)
        committed = time.monotonic()
        post(f"{server.url}/{case['id']}/comment", {"comment": "wake up"})
        assert time.monotonic() - committed < 5
        for reader in readers:
            reader.join(40)
        assert stop(server) == 0

    assert len(answers) == 6
    for answered, page in answers:
        assert [i["entry"]["eventName"] for i in page["data"]] == ["comment"]
        assert answered - committed < 10
    assert "Traceback" not in server.log


def test_a_transaction_left_open_in_another_database_holds_no_reader_back(
    tmp_path: Path, postgres_dsn: str
) -> None:
    # Issue 24: with one open, `GET /_changes?wait=3` answered nothing until it ended.
    port = free_port()
    command = [
        *taskflow_command(),
        *("serve", "--dsn", postgres_dsn, "--port", str(port), "--workers", "2"),
        *("--threads", "4"),
    ]
    stranger = HeldTransaction(make_conninfo(postgres_dsn, dbname="postgres"))
    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server, stranger:
        head = get(server.url + "/_changes")["meta"]["next"]
        after = f"&after={head}" if head else ""
        answers: list[Any] = []
        reader = threading.Thread(
            target=lambda: answers.append(get(f"{server.url}/_changes?wait=3{after}"))
        )
        reader.start()
        time.sleep(0.5)
        committed = time.monotonic()
        case = post(server.url + "/", {"n": 1})["data"]
        reader.join(10)
        answered = time.monotonic()
        assert stranger.still_open()
        assert stop(server) == 0

    assert [item["caseId"] for item in answers[0]["data"]] == [case["id"]]
    assert answered - committed < 1
