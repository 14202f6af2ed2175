"""Slow clients against a real ``taskflow serve``: they wait for their own requests, never
make anyone else wait, and are cut off when their request does not arrive in time."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.e2e.serving import (
    Server,
    clean_env,
    exchange,
    free_port,
    parse_answer,
    serving,
    taskflow_command,
)

pytestmark = pytest.mark.e2e

SLOW_HEADS = 224
SLOW_BODIES = 32
PROBES = 40
HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 3.0
# The sweep for late requests runs about twice a second, in a poller turning at least once.
SWEEP_SLACK = 1.5


def start(tmp_path: Path, *options: str) -> Iterator[Server]:
    port = free_port()
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "2", *options]
    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two workers of four threads each, and the default timeouts (longer than a test)."""
    yield from start(tmp_path_factory.mktemp("slow"))


@pytest.fixture(scope="module")
def impatient_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start(
        tmp_path_factory.mktemp("impatient"),
        "--header-timeout",
        str(HEADER_TIMEOUT),
        "--body-timeout",
        str(BODY_TIMEOUT),
    )


def connect(port: int, first_bytes: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(first_bytes)
    return sock


def still_open(sock: socket.socket) -> bool:
    """Whether the server has neither closed nor answered ``sock``."""
    sock.setblocking(False)
    try:
        return not sock.recv(1)  # an answer, or b"" for a close: either way not waiting
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


@contextmanager
def slow_clients(port: int, heads: int, bodies: int) -> Iterator[list[socket.socket]]:
    """``heads`` connections that send half a request head and then nothing, and ``bodies``
    that send a whole head and then their body a byte every quarter of a second."""
    stop = threading.Event()
    with ExitStack() as stack:
        half_heads = [connect(port, b"GET / HTTP/1.1\r\nHost: x\r\n") for _ in range(heads)]
        head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        trickling = [connect(port, head + b"Content-Length: 64\r\n\r\n{") for _ in range(bodies)]
        for sock in half_heads + trickling:
            stack.callback(sock.close)

        def trickle() -> None:
            while not stop.wait(0.25):
                for sock in trickling:
                    sock.sendall(b" ")

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        stack.callback(sender.join)
        stack.callback(stop.set)
        yield half_heads + trickling


def probe(port: int) -> float | None:
    """Seconds until ``GET /`` was answered 200 on a new connection, None past one second."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            status_line = sock.recv(12)
    except OSError:
        return None
    return time.monotonic() - started if status_line == b"HTTP/1.1 200" else None


class TestSlowClientsWaitOnlyForThemselves:
    def test_probes_are_answered_within_a_second_while_256_slow_clients_hold_connections(
        self, server: Server
    ) -> None:
        with slow_clients(server.port, SLOW_HEADS, SLOW_BODIES) as clients:
            time.sleep(0.5)  # every slow client is in, and waiting for its request
            answered = []
            for _ in range(PROBES):
                answered.append(probe(server.port))
                time.sleep(0.1)
            holding = sum(still_open(sock) for sock in clients)

        # The slow clients were there throughout: what was measured is their effect.
        assert holding == SLOW_HEADS + SLOW_BODIES
        in_time = [seconds for seconds in answered if seconds is not None]
        assert len(in_time) >= 0.95 * PROBES, f"{len(in_time)}/{PROBES} probes answered in 1 s"

    def test_a_request_sent_in_pieces_within_the_timeouts_is_served(self, server: Server) -> None:
        body = json.dumps({"sent": "slowly"}).encode()
        request = (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            for start in range(0, len(request), 20):
                sock.sendall(request[start : start + 20])
                time.sleep(0.05)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk

        answer = parse_answer(received)
        assert answer.status == 200
        assert json.loads(answer.body)["data"]["data"] == {"sent": "slowly"}

    def test_keep_alive_serves_requests_in_turn_and_pipelined_on_one_connection(
        self, server: Server
    ) -> None:
        get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(get)
            first = sock.recv(65536)
            # Two more at once, the second asking to close, so the server ends the exchange.
            sock.sendall(get + get.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
            rest = b""
            while chunk := sock.recv(65536):
                rest += chunk

        assert first.startswith(b"HTTP/1.1 200")
        assert rest.count(b"HTTP/1.1 200") == 2

    def test_probes_are_answered_while_answered_clients_never_close_their_side(
        self, server: Server
    ) -> None:
        # After "Connection: close" the server waits a little for the client's own close,
        # so as not to reset the connection under its answer; that wait must not block.
        request = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        with ExitStack() as stack:
            for _ in range(20):
                stack.enter_context(connect(server.port, request))
            time.sleep(0.2)
            answered = [probe(server.port) for _ in range(20)]

        assert sum(seconds is not None for seconds in answered) >= 19

    def test_a_413_closes_at_once_rather_than_wait_for_the_rest_of_the_body(
        self, server: Server
    ) -> None:
        head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n"
        with connect(server.port, head + b"x" * 1000) as sock:
            started = time.monotonic()
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
            waited = time.monotonic() - started

        assert parse_answer(received).status == 413
        assert waited < 1


class TestLateRequestsAreCutOff:
    def test_a_head_not_whole_within_the_header_timeout_is_closed_unanswered(
        self, impatient_server: Server
    ) -> None:
        with connect(impatient_server.port, b"GET / HTTP/1.1\r\nHost: x\r\n") as sock:
            started = time.monotonic()
            received = sock.recv(65536)
            waited = time.monotonic() - started

        assert received == b""
        assert HEADER_TIMEOUT - 0.5 <= waited <= HEADER_TIMEOUT + SWEEP_SLACK

    def test_a_body_not_whole_within_the_body_timeout_is_answered_408_in_json(
        self, impatient_server: Server
    ) -> None:
        head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n"
        with connect(impatient_server.port, head + b"{") as sock:
            started = time.monotonic()
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
            waited = time.monotonic() - started

        answer = parse_answer(received)
        assert answer.status == 408
        assert answer.headers["content-type"] == "application/json; charset=utf-8"
        assert json.loads(answer.body) == {"message": "The request body did not arrive in time"}
        assert BODY_TIMEOUT - 0.5 <= waited <= BODY_TIMEOUT + SWEEP_SLACK

    def test_a_chunked_body_that_stalls_is_answered_408_in_json(
        self, impatient_server: Server
    ) -> None:
        # A chunked body's end is only known by parsing it: a thread reads it, under the
        # body timeout.
        request = (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n"
        )
        started = time.monotonic()
        answer = exchange(impatient_server.port, request)
        waited = time.monotonic() - started

        assert answer.status == 408
        assert answer.headers["content-type"] == "application/json; charset=utf-8"
        assert set(json.loads(answer.body)) == {"message"}
        assert BODY_TIMEOUT - 0.5 <= waited <= BODY_TIMEOUT + SWEEP_SLACK
        assert "Traceback" not in impatient_server.log
