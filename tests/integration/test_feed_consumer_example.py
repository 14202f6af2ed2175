"""docs/examples/feed_consumer.py, run as a reader would run it, against a live app."""

from __future__ import annotations

import queue
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from taskflow_core import Taskflow
from taskflow_falcon import create_app
from taskflow_sqlite import SqliteStore
from tests.receiver import eventually

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "feed_consumer.py"


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a reader held open by ?wait= does not hold up the others


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[tuple[str, Taskflow]]:
    store = SqliteStore(tmp_path / "taskflow.db")
    flow = Taskflow(store)
    server = make_server(
        "127.0.0.1",
        0,
        create_app(flow, feed=True),
        server_class=ThreadingServer,
        handler_class=QuietHandler,
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", flow
    server.shutdown()
    server.server_close()
    store.close()


class Consumer:
    def __init__(self, url: str, cursor_file: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(EXAMPLE), url, str(cursor_file)],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[list[str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.split())

    def next_lines(self, count: int) -> list[list[str]]:
        return [self.lines.get(timeout=20) for _ in range(count)]

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def test_the_consumer_prints_each_event_once_and_resumes_after_a_restart(
    app_url: tuple[str, Taskflow], tmp_path: Path
) -> None:
    url, flow = app_url
    cursor_file = tmp_path / "cursor.txt"
    consumer = Consumer(url, cursor_file)
    try:
        first = flow.create({}, user={"profile": {"id": "alice"}})
        flow.set_status(first["id"], "open", user={"profile": {"id": "bob"}})
        assert consumer.next_lines(2) == [
            [first["id"], "create", "alice"],
            [first["id"], "status:new:open", "bob"],
        ]
        # Killed once it has saved its place (killed before, it would print the last again).
        last = flow.changes()["meta"]["next"]
        eventually(lambda: cursor_file.exists() and cursor_file.read_text() == last)
    finally:
        consumer.stop()
    second = flow.create({})
    flow.comment(second["id"], "while nobody was reading")
    consumer = Consumer(url, cursor_file)
    try:
        assert consumer.next_lines(2) == [
            [second["id"], "create", "None"],
            [second["id"], "comment", "None"],
        ]
        with pytest.raises(queue.Empty):
            consumer.lines.get(timeout=1)
    finally:
        consumer.stop()
