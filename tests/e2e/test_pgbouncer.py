"""Many nodes on one PostgreSQL through PgBouncer in transaction mode: three `taskflow serve`
nodes, two relays and two timer sweepers, and 32 clients spread over the nodes."""

from __future__ import annotations

import json
import subprocess
import textwrap
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.serving import (
    Server,
    clean_env,
    free_port,
    serving,
    start_logged,
    stop_all,
    taskflow_command,
)
from tests.receiver import Receiver, eventually, receiving
from tests.stores.pgbouncer import started_pgbouncer
from tests.support.pgbouncer import PgBouncer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

NODES = 3
CLIENTS = 32
ROUNDS = 10
COUNTERS = 4
HOST_MODULE = """
    import os
    from datetime import timedelta

    from taskflow_compose import database_url, store_from_url
    from taskflow_core import Taskflow

    flow = Taskflow(store_from_url(database_url()), allow_private_webhooks=True)
    flow.webhook(os.environ["RECEIVER"])

    @flow.hook("create")
    def remind(event):
        event.set_timer("due", timedelta(seconds=1))

    @flow.hook("timer:due")
    def mark(event):
        event.patch({"reminded": True})
"""


class Client:
    """HTTP over urllib; every answer that is not what the protocol allows is a failure."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self._lock = threading.Lock()

    def call(
        self, method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            url,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, _headers(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _headers(error.headers), json.loads(error.read())
        except OSError as error:
            self.fail(f"{method} {url}: {error!r}")
            return 0, {}, None

    def expect(self, status: int, answer: tuple[int, dict[str, str], Any], what: str) -> Any:
        if answer[0] != status:
            self.fail(f"{what}: {answer[0]} {answer[2]}")
        return answer[2]

    def fail(self, message: str) -> None:
        with self._lock:
            self.failures.append(message)


@pytest.fixture
def bouncer(postgres_server: Any) -> Iterator[PgBouncer]:
    # Six server sessions for some twenty client connections: they take turns.
    with started_pgbouncer(postgres_server, pool_size=6) as bouncer:
        yield bouncer


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


def increment(client: Client, node: str, case_id: str) -> int:
    """Add one to the case's count at the version read, again on 412; the retries."""
    for retries in range(200):
        status, headers, case = client.call("GET", f"{node}/{case_id}")
        if status != 200:
            client.fail(f"GET counter: {status} {case}")
            return retries
        count = case["data"]["data"]["count"]
        answer = client.call(
            "PUT",
            f"{node}/{case_id}",
            {"data": {"count": count + 1}},
            {"If-Match": headers["etag"]},
        )
        if answer[0] == 200:
            return retries
        if answer[0] != 412:
            client.fail(f"PUT counter: {answer[0]} {answer[2]}")
            return retries
    client.fail(f"{case_id}: no increment in 200 tries")
    return 200


def whole_feed(client: Client, node: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = ""
    while True:
        page = client.expect(200, client.call("GET", f"{node}/_changes?limit=1000{after}"), "feed")
        if not page or not page["data"]:
            return items
        items += page["data"]
        after = f"&after={page['meta']['next']}"


def test_three_nodes_two_relays_two_sweepers_through_pgbouncer_lose_nothing(
    tmp_path: Path, bouncer: PgBouncer, postgres_dsn: str, receiver: Receiver
) -> None:
    (tmp_path / "bouncerhost.py").write_text(textwrap.dedent(HOST_MODULE))
    url = bouncer.url(postgres_dsn)
    env = clean_env(RECEIVER=receiver.url("/feed"))
    # Each of the three spellings of the switch: the URL, the URL in the environment, and
    # TASKFLOW_PGBOUNCER beside a plain URL.
    through_url = [*taskflow_command()]
    serve = [
        *(*through_url, "serve", "--dsn", f"{url}?pgbouncer=true"),
        *("--app", "bouncerhost:flow", "--feed"),
    ]
    with ExitStack() as stack:
        nodes: list[Server] = []
        # Started together: their migrations meet on PgBouncer's sessions too.
        starting = []
        for _ in range(NODES):
            port = free_port()
            command = [*serve, "--port", str(port), "--workers", "1", "--threads", "4"]
            starting.append(serving(command, cwd=tmp_path, env=env, port=port))
        nodes = [stack.enter_context(server) for server in starting]
        helpers = [
            start_logged(
                [*through_url, "relay", "--app", "bouncerhost:flow", "--timeout", "5"],
                tmp_path,
                {**env, "TASKFLOW_DATABASE_URL": url, "TASKFLOW_PGBOUNCER": "1"},
                f"relay-{n}",
            )
            for n in range(2)
        ] + [
            start_logged(
                [*through_url, "timers", "--app", "bouncerhost:flow", "--interval", "0.2"],
                tmp_path,
                {**env, "TASKFLOW_DATABASE_URL": f"{url}?pgbouncer=true"},
                f"timers-{n}",
            )
            for n in range(2)
        ]
        stack.callback(stop_all, helpers)
        run_and_check([server.url for server in nodes], receiver, helpers, tmp_path)


def run_and_check(
    nodes: list[str],
    receiver: Receiver,
    helpers: list[subprocess.Popen[bytes]],
    logs: Path,
) -> None:
    client = Client()
    counters = [
        client.expect(200, client.call("POST", f"{nodes[n % NODES]}/", {"count": 0}), "create")[
            "data"
        ]["id"]
        for n in range(COUNTERS)
    ]
    increments: Counter[str] = Counter()
    created: list[str] = []
    retries: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def run(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:  # a failure of the test itself, reported as one
            client.fail(f"client {n}: {exc!r}")

    def work(n: int) -> None:
        node = nodes[n % NODES]
        barrier.wait(timeout=30)
        for i in range(ROUNDS):
            counter = counters[(n + i) % COUNTERS]
            match (n + i) % 5:
                case 0 | 1:
                    tried = increment(client, node, counter)
                    with lock:
                        increments[counter] += 1
                        retries.append(tried)
                case 2:
                    case = client.expect(200, client.call("POST", f"{node}/", {"n": n}), "create")
                    if case:
                        with lock:
                            created.append(case["data"]["id"])
                case 3:
                    answer = client.call("POST", f"{node}/{counter}/comment", {"comment": f"{n}"})
                    client.expect(200, answer, "comment")
                case _:
                    client.expect(200, client.call("GET", f"{node}/?limit=5"), "list")
                    client.expect(200, client.call("GET", f"{node}/_changes?limit=20"), "feed")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert client.failures == [], client.failures[:10]
    assert all(process.poll() is None for process in helpers), _logs(logs)

    # No lost update: every increment that was answered 200 is in the count, and clients did
    # meet on the same versions (answered 412 and retried), so the count could have lost some.
    assert sum(retries) > 0
    for counter in counters:
        status, _, case = client.call("GET", f"{nodes[0]}/{counter}")
        assert (status, case["data"]["data"]["count"]) == (200, increments[counter])

    # Every due timer fired once: the counters' and the cases created meanwhile.
    def fired(case_id: str) -> int:
        case = client.expect(200, client.call("GET", f"{nodes[1]}/{case_id}"), "get")
        return sum(entry["eventName"] == "timer:due" for entry in case["data"]["activityLog"])

    every_case = counters + created

    def all_fired() -> bool:
        return all(fired(case_id) >= 1 for case_id in every_case)

    eventually(all_fired, within=30)
    assert [fired(case_id) for case_id in every_case] == [1] * len(every_case)

    # Every feed entry delivered (at least once, as docs/integrations.md promises).
    feed = {item["entry"]["id"] for item in whole_feed(client, nodes[2])}
    assert len(feed) >= len(every_case) * 3  # create, timer:due, update by its hook

    def delivered() -> set[str]:
        return {r.headers["webhook-id"] for r in receiver.accepted("/feed")}

    eventually(lambda: feed <= delivered(), within=30)
    assert client.failures == [], client.failures[:10]


def _headers(message: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in message.items()}


def _logs(where: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')}" for p in where.glob("*.log"))
