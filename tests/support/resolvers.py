"""A resolver for the tests that hangs on the names it is told: what a slow DNS server does to
a relay's send, through the lookup ``HttpSender(lookup=...)`` takes."""

from __future__ import annotations

import socket
import threading
from typing import Any


class HangingResolver:
    """A resolver that hangs on the names it is told (until released), and resolves every
    other name with the system's resolver: the lookup ``HttpSender`` takes."""

    def __init__(self, *hanging: str) -> None:
        self.hanging = set(hanging)
        self.release = threading.Event()
        self.asked: list[str] = []

    def __call__(self, host: str, port: int | None) -> list[tuple[Any, ...]]:
        self.asked.append(host)
        if host in self.hanging:
            self.release.wait(30)
            host = "127.0.0.1"
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
