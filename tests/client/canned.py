"""A server on 127.0.0.1 that answers what a test tells it, byte for byte: what taskflow never
sends (an HTML page, a body cut short, a redirect), or sends only under load (a 503, the
in-flight twin's 409), so the client's handling of each can be seen."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import attrs


def answer(
    status: str, body: bytes = b"", content_type: str | None = None, **headers: str
) -> bytes:
    """A whole HTTP/1.1 answer; ``headers`` with ``_`` for ``-``."""
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def json_answer(status: str, body: str, **headers: str) -> bytes:
    return answer(status, body.encode(), "application/json; charset=utf-8", **headers)


@attrs.define
class Canned:
    """Answers ``answers`` in turn (the last one again once they run out), each after
    ``delay`` seconds; ``requests`` holds every request's head and body as received."""

    answers: list[bytes]
    delay: float = 0.0
    port: int = 0
    requests: list[bytes] = attrs.field(factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def headers(self, n: int) -> dict[str, str]:
        head = self.requests[n].split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
        return {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head)}


def _read_request(conn: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = conn.recv(65536)
        if not chunk:
            return received
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@contextmanager
def canned(*answers: bytes, delay: float = 0.0) -> Iterator[Canned]:
    server = Canned(list(answers), delay)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    server.port = listener.getsockname()[1]
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    request = _read_request(conn)
                    if not request:
                        continue
                    n = len(server.requests)
                    server.requests.append(request)
                    if server.delay:
                        time.sleep(server.delay)
                    conn.sendall(server.answers[min(n, len(server.answers) - 1)])
                except OSError:
                    continue  # the client gave up first: the slow server's case

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stopping.set()
        thread.join(5)
        listener.close()
