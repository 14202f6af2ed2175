"""Starting a real server for the end-to-end tests, and speaking raw HTTP/1.1 to it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import pytest

STARTUP_SECONDS = 60
SHUTDOWN_SECONDS = 30


def taskflow_command() -> list[str]:
    script = Path(sys.executable).with_name("taskflow")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from taskflow_cli.main import cli; cli()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@attrs.define
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_until_answering(server: Server, path: str = "/") -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"server exited with {server.process.returncode}:\n{server.log}")
        try:
            with urllib.request.urlopen(server.url + path, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"server did not answer within {STARTUP_SECONDS}s:\n{server.log}")


@contextmanager
def serving(
    command: list[str], *, cwd: Path, env: dict[str, str], port: int, ready_path: str = "/"
) -> Iterator[Server]:
    """Start the server, wait for it to answer 200 on ``ready_path``, and stop it with
    SIGTERM afterwards."""
    log_path = cwd / f"server-{port}.log"
    with log_path.open("wb") as log:
        # Output to a file: a pipe nobody reads would block gunicorn once it fills.
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=log)
    server = Server(port, process, log_path)
    try:
        _wait_until_answering(server, ready_path)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=SHUTDOWN_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"server ignored SIGTERM for {SHUTDOWN_SECONDS}s:\n{server.log}")


def stop(server: Server) -> int:
    server.process.send_signal(signal.SIGTERM)
    return server.process.wait(timeout=SHUTDOWN_SECONDS)


def start_logged(
    command: list[str], cwd: Path, env: dict[str, str], name: str
) -> subprocess.Popen[bytes]:
    """Start a process (a relay, a sweeper) with its output in ``cwd/<name>.log``."""
    with (cwd / f"{name}.log").open("wb") as log:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=log)


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to each, then wait for each; one that ignores it is killed."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKFLOW_")}
    return {**env, **extra}


@attrs.frozen
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


def exchange(port: int, request: bytes, *, timeout: float = 10) -> RawAnswer:
    """Send ``request`` as it is, and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return parse_answer(received)


def parse_answer(received: bytes) -> RawAnswer:
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *fields = head.decode("latin-1").split("\r\n")
    headers = {}
    for field in fields:
        name, _, value = field.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawAnswer(int(status_line.split(" ")[1]), headers, body)
