"""The standard library sender against a real receiver: the timeout bounds the whole send,
the name's resolving included, and addresses that are not public are refused after
resolving, unless allowed."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from taskflow_core import Taskflow
from taskflow_core.background.http_sender import DeliveryFailed, HttpSender, phrase, post
from taskflow_core.domain.addresses import Reach
from taskflow_core.memory import MemoryStore
from tests.receiver import Receiver, eventually, receiving
from tests.support.resolvers import HangingResolver

LOCAL = HttpSender(Reach(private=True))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


def test_an_answer_trickled_a_byte_at_a_time_fails_at_the_timeout(receiver: Receiver) -> None:
    receiver.trickle.add("/hook")
    started = time.monotonic()
    with pytest.raises(DeliveryFailed, match=r"^timed out after 1s$"):
        LOCAL(receiver.url(), b"{}", {}, 1.0)
    assert time.monotonic() - started < 1.5
    assert len(receiver.all()) == 1


def test_a_receiver_that_never_answers_fails_at_the_timeout(receiver: Receiver) -> None:
    receiver.answers["/hook"] = (200, 10.0)
    started = time.monotonic()
    with pytest.raises(DeliveryFailed, match="timed out"):
        LOCAL(receiver.url(), b"{}", {}, 0.5)
    assert time.monotonic() - started < 1


def test_a_quick_answer_is_accepted_well_within_the_timeout(receiver: Receiver) -> None:
    started = time.monotonic()
    LOCAL(receiver.url(), b'{"a": 1}', {"webhook-id": "x"}, 5.0)
    assert time.monotonic() - started < 1
    (got,) = receiver.accepted()
    assert got.body == b'{"a": 1}'


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_sender_told_so_refuses_a_loopback_address_after_resolving(
    receiver: Receiver, host: str
) -> None:
    url = receiver.url().replace("127.0.0.1", host)
    with pytest.raises(DeliveryFailed, match="not a public address"):
        HttpSender(Reach(loopback=False))(url, b"{}", {}, 2.0)
    assert receiver.all() == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_default_sender_reaches_this_machine_as_spec_9s_receivers_need(
    receiver: Receiver, host: str
) -> None:
    post(receiver.url().replace("127.0.0.1", host), b"{}", {}, 2.0)
    assert len(receiver.accepted()) == 1


LOOPBACK = [
    "http://127.0.0.1:5432/",
    "http://localhost/hook",
    "http://LOCALHOST./hook",
    "http://api.localhost/hook",
    "http://[::1]:8080/",
    "http://[::ffff:127.0.0.1]/",
    "http://2130706433/",
    "http://127.1/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
]


@pytest.mark.parametrize("url", LOOPBACK)
def test_a_loopback_url_is_refused_where_the_host_says_so(url: str) -> None:
    with pytest.raises(ValueError, match="public address"):
        Taskflow(MemoryStore(), allow_loopback_webhooks=False).webhook(url)
    Taskflow(MemoryStore()).webhook(url)  # allowed by default: SPEC §9's local receivers


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/",
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://0.0.0.0:8000/",
        "http://10.0.0.7/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://[fd00::1]/",
        "http://[fe80::1%25eth0]/",
    ],
)
def test_registering_a_url_on_a_non_public_address_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="public address"):
        Taskflow(MemoryStore()).webhook(url)
    # The host may allow it: tests, receivers on the same machine.
    Taskflow(MemoryStore(), allow_private_webhooks=True).webhook(url)


@pytest.mark.parametrize(
    "url", ["https://example.com/hook", "http://93.184.215.14:8080/h", "http://1.1.1.1/"]
)
def test_public_addresses_and_names_are_accepted(url: str) -> None:
    Taskflow(MemoryStore()).webhook(url)


def test_a_refusal_shows_no_credentials_of_the_url() -> None:
    with pytest.raises(ValueError, match="public address") as refused:
        Taskflow(MemoryStore()).webhook("http://user:hunter2@10.0.0.7/h?token=abc")
    assert "hunter2" not in str(refused.value)
    assert "abc" not in str(refused.value)


def test_a_reason_phrase_is_kept_short_and_printable() -> None:
    assert phrase("Service Unavailable") == "Service Unavailable"
    escaped = phrase("\x1b[2J\r\nforged: yes é" + "x" * 200)
    assert escaped.startswith("\\x1b[2J\\x0d\\x0aforged: yes \\xe9")
    assert escaped.isprintable()
    assert len(escaped) <= 83


def test_a_tls_handshake_trickled_a_byte_at_a_time_fails_at_the_timeout() -> None:
    # A TLS record header announcing 16 kB of handshake, then a byte every 0.2 s: each read
    # gets a byte well within any per-read timeout, so only a deadline for the whole ends it.
    stop = threading.Event()
    with socket.create_server(("127.0.0.1", 0)) as server:

        def trickle() -> None:
            conn, _ = server.accept()
            with conn:
                conn.sendall(b"\x16\x03\x03\x40\x00")
                while not stop.wait(0.2):
                    try:
                        conn.sendall(b"\x00")
                    except OSError:
                        return

        threading.Thread(target=trickle, daemon=True).start()
        port = server.getsockname()[1]
        started = time.monotonic()
        try:
            with pytest.raises(DeliveryFailed, match=r"^timed out after 1s$"):
                LOCAL(f"https://127.0.0.1:{port}/hook", b"{}", {}, 1.0)
            assert time.monotonic() - started < 1.5
        finally:
            stop.set()


@pytest.fixture
def resolver() -> Iterator[HangingResolver]:
    resolver = HangingResolver("hangs.example")
    yield resolver
    resolver.release.set()


class TestResolving:
    """Issue 33: the name is resolved within the send's deadline, and checked as resolved."""

    def test_a_name_whose_resolver_hangs_fails_at_the_timeout(
        self, resolver: HangingResolver
    ) -> None:
        sender = HttpSender(Reach(private=True), lookup=resolver)
        started = time.monotonic()
        with pytest.raises(DeliveryFailed, match=r"^timed out after 0.5s$"):
            sender("http://hangs.example:9/hook", b"{}", {}, 0.5)
        assert time.monotonic() - started < 0.9

    def test_sends_waiting_on_a_hung_name_share_one_lookup_and_hold_up_no_other_name(
        self, resolver: HangingResolver, receiver: Receiver
    ) -> None:
        sender = HttpSender(Reach(private=True), lookup=resolver)
        failures: list[str] = []

        def send_to_the_hung_name() -> None:
            try:
                sender("http://hangs.example:9/hook", b"{}", {}, 2.0)
            except DeliveryFailed as exc:
                failures.append(str(exc))

        waiting = [threading.Thread(target=send_to_the_hung_name) for _ in range(3)]
        for thread in waiting:
            thread.start()
        started = time.monotonic()
        sender(receiver.url().replace("127.0.0.1", "localhost"), b"{}", {}, 2.0)
        assert time.monotonic() - started < 0.5
        assert len(receiver.accepted()) == 1
        for thread in waiting:
            thread.join()
        assert failures == ["timed out after 2s"] * 3
        assert resolver.asked.count("hangs.example") == 1
        resolver.release.set()
        eventually(lambda: sender._resolver.in_flight() == 0)
        # Released, the name resolves (to the receiver) and a new send goes through.
        sender(receiver.url().replace("127.0.0.1", "hangs.example"), b"{}", {}, 2.0)
        assert len(receiver.accepted()) == 2

    def test_the_addresses_a_lookup_gives_are_checked_before_connecting(self) -> None:
        def intranet(host: str, port: int | None) -> list[tuple[Any, ...]]:
            return socket.getaddrinfo("10.0.0.7", port, type=socket.SOCK_STREAM)

        with pytest.raises(DeliveryFailed, match=r"resolves to 10\.0\.0\.7, which is not a public"):
            HttpSender(lookup=intranet)("http://intranet.example/hook", b"{}", {}, 1.0)

    def test_a_process_whose_resolver_hangs_exits_once_its_send_timed_out(self) -> None:
        # The lookup's thread is a daemon: a relay told to stop is not held by a resolver.
        script = (
            "import time\n"
            "from taskflow_core.background.http_sender import DeliveryFailed, HttpSender\n"
            "sender = HttpSender(lookup=lambda host, port: time.sleep(60) or [])\n"
            "try:\n"
            "    sender('http://hangs.example/hook', b'{}', {}, 0.3)\n"
            "except DeliveryFailed as exc:\n"
            "    print(exc)\n"
        )
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
        )
        assert done.stdout.strip() == "timed out after 0.3s", done.stderr
        assert time.monotonic() - started < 10  # an interpreter's start, not the lookup's 60 s
