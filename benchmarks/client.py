"""The client's own CPU per call, over a raw httpx round trip on a kept-alive connection.

A real ``taskflow serve`` (SQLite, one worker) answers in another process, so this process's
CPU time (``time.process_time``) is the caller's alone: httpx sending and receiving, and for
the client its JSON, headers, key and error mapping on top. The same requests are sent raw
(httpx, the same body bytes and headers, the answer's bytes not parsed) and through
``Client``, in alternating rounds; the medians per call and their difference are reported.
Target: the client adds at most 0.2 ms of CPU per call (issue 31).

On a busy machine the served comparison is noisy (both sides share the cores with the
server): the second table sends the same calls to httpx's ``MockTransport`` answering a
case's bytes at once, with no network and no server, so the difference is the client's
CPU alone.

    python -m benchmarks.client --calls 2000 --rounds 5
    python -m benchmarks.client --no-server          # the isolated table only
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from taskflow_client import Client

from .run import free_port


def wait_until_answering(base: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if httpx.get(base + "/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def cpu_per_call(call: Callable[[], object], calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - started) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-server", action="store_true")
    args = parser.parse_args()
    if not args.no_server:
        served(args.calls, args.rounds)
    isolated(args.calls * 3, args.rounds)


def served(calls: int, rounds: int) -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        command = [sys.executable, "-c", "from taskflow_cli.main import cli; cli()", "serve"]
        command += ["--dsn", f"sqlite:///{Path(directory) / 'bench.db'}", "--port", str(port)]
        command += ["--workers", "1", "--threads", "2"]
        server = subprocess.Popen(
            command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_answering(base)
            report(base, calls, rounds)
        finally:
            server.terminate()
            server.wait(30)


def report(
    base: str, calls: int, rounds: int, transport: httpx.BaseTransport | None = None
) -> None:
    raw = httpx.Client(base_url=base, transport=transport)
    client = Client(base, transport=transport)
    case_id = client.create({"subject": "benchmark", "n": 1})["id"]
    body = json.dumps({"subject": "benchmark", "n": 1}, separators=(",", ":")).encode()

    def raw_get() -> object:
        return raw.get(f"/{case_id}").content

    def raw_create() -> object:
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        return raw.post("/", content=body, headers=headers).content

    pairs = {
        "get": (raw_get, lambda: client.get(case_id)),
        "create": (raw_create, lambda: client.create({"subject": "benchmark", "n": 1})),
        "list (limit 10)": (
            lambda: raw.get("/?limit=10").content,
            lambda: client.list({"limit": 10}),
        ),
    }
    where = "served" if transport is None else "isolated (httpx.MockTransport)"
    print(f"\n{where}: {calls} calls x {rounds} rounds, CPU ms per call (median of rounds)")
    print("| call | raw httpx | Client | client's own |")
    print("|---|---:|---:|---:|")
    for name, (bare, wrapped) in pairs.items():
        bare(), wrapped()  # warm: connection open, caches filled
        raws, ours = [], []
        for _ in range(rounds):
            raws.append(cpu_per_call(bare, calls))
            ours.append(cpu_per_call(wrapped, calls))
        r, c = statistics.median(raws) * 1000, statistics.median(ours) * 1000
        print(f"| {name} | {r:.3f} | {c:.3f} | {c - r:.3f} |")


# What GET /{id} answers for a new case, about: the bytes the isolated table parses.
CASE = {
    "id": "0b7c3d8e-1111-4222-8333-444455556666",
    "status": "new",
    "data": {"subject": "benchmark", "n": 1},
    "assignedTo": None,
    "createdAt": "2026-12-06T10:00:00.000Z",
    "updatedAt": "2026-12-06T10:00:00.000Z",
    "version": 1,
    "activityLog": [
        {
            "id": "7c1e7a9a-1111-4222-8333-444455556666",
            "caseId": "0b7c3d8e-1111-4222-8333-444455556666",
            "changedBy": None,
            "eventName": "create",
            "event": {"event": "create", "meta": {"data": {"subject": "benchmark"}}},
            "comment": None,
            "createdAt": "2026-12-06T10:00:00.000Z",
            "updatedAt": "2026-12-06T10:00:00.000Z",
        }
    ],
}


def isolated(calls: int, rounds: int) -> None:
    one = json.dumps({"data": CASE}).encode()
    page = json.dumps({"data": [CASE] * 10, "meta": {"count": 10}}).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        body = page if request.url.query else one
        headers = {"Content-Type": "application/json; charset=utf-8", "ETag": '"1"'}
        return httpx.Response(200, content=body, headers=headers)

    report("http://taskflow.test", calls, rounds, httpx.MockTransport(answer))


if __name__ == "__main__":
    main()
