"""One Idempotency-Key sent many times at once, to two servers on one PostgreSQL database:
the database, not a lock in either process, makes exactly one of them carry it out."""

from __future__ import annotations

import json
import textwrap
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import psycopg
import pytest

from tests.e2e.test_serve import clean_env, free_port, serving, taskflow_command

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

REQUESTS = 16

# A create that takes a while, so that every other request arrives while it still runs.
HOST_MODULE = """
import time

from taskflow_compose import database_url, store_from_url
from taskflow_core import Taskflow

flow = Taskflow(store_from_url(database_url()))

@flow.hook("create")
def slowly(event):
    time.sleep(0.5)
"""


@attrs.frozen
class Answer:
    status: int
    body: bytes
    replayed: bool


def post_with_key(url: str, key: str, body: object) -> Answer:
    request = urllib.request.Request(
        url + "/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": key},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            replayed = response.headers.get("Idempotent-Replayed") == "true"
            return Answer(response.status, response.read(), replayed)
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read(), False)


def test_sixteen_creates_with_one_key_on_two_servers_make_exactly_one_case(
    tmp_path: Path, postgres_dsn: str
) -> None:
    (tmp_path / "race_host.py").write_text(textwrap.dedent(HOST_MODULE))
    env = clean_env(TASKFLOW_DATABASE_URL=postgres_dsn)

    def command(port: int) -> list[str]:
        return [
            *taskflow_command(),
            "serve",
            "--app",
            "race_host:flow",
            "--port",
            str(port),
            "--workers",
            "1",
            "--threads",
            "4",
        ]

    first_port, second_port = free_port(), free_port()
    barrier = threading.Barrier(REQUESTS)
    with (
        serving(command(first_port), cwd=tmp_path, env=env, port=first_port) as first,
        serving(command(second_port), cwd=tmp_path, env=env, port=second_port) as second,
    ):
        servers = [first.url, second.url]

        def send(n: int) -> Answer:
            barrier.wait(timeout=30)
            return post_with_key(servers[n % 2], "one-order", {"order": 42})

        with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
            answers = list(pool.map(send, range(REQUESTS)))

    assert {a.status for a in answers} <= {200, 409}, answers
    done = [a for a in answers if a.status == 200]
    assert len([a for a in done if not a.replayed]) == 1
    # Every 200 is the one case, byte for byte; a 409 says to retry, marked so that a client
    # tells it from every other 409 (taskflow_client retries it), and nothing else.
    assert {a.body for a in done} == {done[0].body}
    case = json.loads(done[0].body)["data"]
    for refused in (a for a in answers if a.status == 409):
        assert json.loads(refused.body)["errors"] == {"Idempotency-Key": "running"}
    with psycopg.connect(postgres_dsn) as conn:
        cases = conn.execute("select id::text, data from cases").fetchall()
        entries = conn.execute("select event_name from activity_log").fetchall()
    assert cases == [(case["id"], {"order": 42})]
    assert entries == [("create",)]
    assert "Traceback" not in first.log + second.log
