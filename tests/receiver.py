"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1, on a port of its own.

It records every request it answers, and answers as told: 200, another status, slowly, not
at all (it can stop listening and start again on the same port), with a reason phrase of
its choosing, or trickling: a 200 that promises a long body and sends a byte at a time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs

from taskflow_core.domain.webhooks import signing_key


@attrs.frozen
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered
    at: float  # time.monotonic() when the request arrived

    @property
    def message(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found

    @property
    def query(self) -> str:
        return self.path.partition("?")[2]

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    def signature_is_valid(self, secret: str) -> bool:
        """Checked as a Standard Webhooks receiver checks it, independently of the sender."""
        signed = f"{self.headers['webhook-id']}.{self.headers['webhook-timestamp']}.".encode()
        digest = hmac.new(signing_key(secret), signed + self.body, hashlib.sha256).digest()
        expected = "v1," + base64.b64encode(digest).decode()
        offered = self.headers.get("webhook-signature", "").split(" ")
        return any(hmac.compare_digest(expected, one) for one in offered)


TRICKLE = 0.2
TRICKLE_LENGTH = 100_000


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._lock = threading.Lock()
        # path -> (status, delay in seconds); unlisted paths answer 200 at once.
        self.answers: dict[str, tuple[int, float]] = {}
        self.default = (200, 0.0)
        # Paths answered "200, Content-Length: 100000", then a byte every TRICKLE seconds.
        self.trickle: set[str] = set()
        # path -> the reason phrase of its status line.
        self.reasons: dict[str, str] = {}
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening: senders then find the connection refused."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.accepted and (path is None or r.path == path)]

    def all(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if path is None or r.path == path]

    def _record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                at = time.monotonic()
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status, delay = receiver.answers.get(self.path, receiver.default)
                if delay:
                    time.sleep(delay)
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver._record(Received(self.path, headers, body, status, at))
                if self.path in receiver.trickle:
                    self._trickle()
                    return
                self.send_response(status, receiver.reasons.get(self.path))
                self.send_header("content-length", "0")
                self.end_headers()

            def _trickle(self) -> None:
                self.send_response(200)
                self.send_header("content-length", str(TRICKLE_LENGTH))
                self.end_headers()
                try:
                    for _ in range(TRICKLE_LENGTH):
                        if receiver._stopping.wait(TRICKLE):
                            break
                        self.wfile.write(b"x")
                        self.wfile.flush()
                except OSError:
                    pass  # the sender gave up: what the tests expect of it
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def eventually(check: Callable[[], bool], *, within: float = 20.0, step: float = 0.05) -> None:
    """Wait until ``check()`` holds. PostgreSQL gives a change its place in the feed a moment
    after it commits (taskflow_postgres/sequencer.py), and a relay fans it out only then, so
    the tests wait for what they expect rather than expect it at once."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {within}s: {check}")
        time.sleep(step)
