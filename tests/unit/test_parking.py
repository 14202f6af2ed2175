"""The worker's parking lot: parked requests wait without a thread, and one thread wakes
those that are ready or out of time (taskflow_cli/parking.py)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from taskflow_cli.parking import ParkedRequest, ParkingApp, ParkingLot, Ticket
from taskflow_falcon.parking import PARKING


class Resumed:
    def __init__(self) -> None:
        self.conns: list[Any] = []
        self.event = threading.Event()

    def __call__(self, conn: Any) -> None:
        self.conns.append((conn, time.monotonic()))
        self.event.set()

    def wait_for(self, count: int, timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while len(self.conns) < count and time.monotonic() < deadline:
            time.sleep(0.01)


def parked(lot: ParkingLot, conn: str, *, until: float, ready: Any, key: Any = None) -> Ticket:
    ticket = Ticket()

    def wait(seconds: float) -> None:
        time.sleep(min(seconds, 0.05))

    ticket.park(until=until, ready=ready, wait=wait, key=key)
    lot.park(conn, ticket)
    return ticket


def test_a_ready_request_is_resumed_at_once_and_the_others_wait() -> None:
    resumed = Resumed()
    lot = ParkingLot(resumed)
    now = time.monotonic()
    parked(lot, "ready", until=now + 30, ready=lambda: True)
    parked(lot, "waiting", until=now + 30, ready=lambda: False)
    resumed.wait_for(1)
    time.sleep(0.3)
    assert [conn for conn, _ in resumed.conns] == ["ready"]
    assert len(lot) == 1


def test_a_request_out_of_time_is_resumed_near_its_deadline() -> None:
    resumed = Resumed()
    lot = ParkingLot(resumed)
    until = time.monotonic() + 0.3
    parked(lot, "late", until=until, ready=lambda: False)
    resumed.wait_for(1)
    [(conn, at)] = resumed.conns
    assert conn == "late"
    assert until <= at < until + 0.7


def test_requests_with_the_same_key_share_one_look() -> None:
    resumed = Resumed()
    lot = ParkingLot(resumed)
    looks: list[int] = []
    answer = threading.Event()

    def ready() -> bool:
        looks.append(1)
        return answer.is_set()

    now = time.monotonic()
    for n in range(20):
        parked(lot, f"reader-{n}", until=now + 30, ready=ready, key="same cursor")
    time.sleep(0.3)
    answer.set()
    resumed.wait_for(20)
    assert len(resumed.conns) == 20
    # One look per turn of the waiting thread, not one per reader.
    assert len(looks) < 20


def test_a_look_that_fails_resumes_the_request_for_the_app_to_answer() -> None:
    resumed = Resumed()
    lot = ParkingLot(resumed)

    def broken() -> bool:
        raise ConnectionError("the database is away")

    parked(lot, "broken", until=time.monotonic() + 30, ready=broken)
    resumed.wait_for(1)
    assert [conn for conn, _ in resumed.conns] == ["broken"]


def test_closing_resumes_every_parked_request_and_any_parked_after() -> None:
    resumed = Resumed()
    lot = ParkingLot(resumed)
    now = time.monotonic()
    for n in range(5):
        parked(lot, f"reader-{n}", until=now + 30, ready=lambda: False)
    lot.close()
    parked(lot, "late", until=time.monotonic() + 30, ready=lambda: False)
    resumed.wait_for(6, timeout=3)
    assert len(resumed.conns) == 6
    assert max(at for _, at in resumed.conns) - now < 2


class TestParkingApp:
    def test_an_app_that_parks_answers_nothing(self) -> None:
        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            environ[PARKING].park(until=0.0, ready=lambda: True, wait=lambda s: None)
            start_response("200 OK", [])
            return [b"never sent"]

        wrapped = ParkingApp(app)
        wrapped.current.ticket = Ticket()
        with pytest.raises(ParkedRequest):
            wrapped({}, lambda *args: None)

    def test_without_a_ticket_the_app_is_called_as_it_is(self) -> None:
        seen: list[dict[str, Any]] = []

        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            seen.append(environ)
            return [b"ok"]

        assert ParkingApp(app)({}, lambda *args: None) == [b"ok"]
        assert PARKING not in seen[0]


def test_a_forgotten_request_is_never_resumed() -> None:
    resumed = Resumed()
    lot = ParkingLot(resumed)
    parked(lot, "gone", until=time.monotonic() + 0.2, ready=lambda: False)
    assert lot.forget("gone") is not None
    assert lot.forget("gone") is None
    time.sleep(0.6)
    assert resumed.conns == []
    assert len(lot) == 0
