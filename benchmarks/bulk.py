"""Bulk actions and exports (docs/bulk.md) against a real `taskflow serve` and PostgreSQL.

python -m benchmarks.bulk --cases 50000 (the issue's export figure is for 1,000,000; same
options as run.py's where they share a name). Seeds its own database (benchmarks/seed.sql),
serves benchmarks.bulk_app:flow (one hook on every status change), then measures:

- POST /_bulk changing the status of 1,000 cases (target: 6 s at most) while 4 connections
  read other cases with GET /{id} as fast as they can, from threads of this process
  (target: their p99 at most 200 ms meanwhile), and the same reads without a batch beside;
- GET /_export?format=ndjson and format=csv of every case, read as fast as the client can:
  cases per second (target: 20,000 at least each) and the growth of the workers' resident
  memory while it runs (target: 50 MB at most).

Results: results/bulk-<cases>.{md,json}.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from taskflow_postgres import PostgresStore

from .run import (
    RESULTS,
    Server,
    add_dsn_option,
    case_id,
    log,
    recreate_database,
    save,
    seed,
    with_database,
)

BATCH = 1000


class Readers:
    """``connections`` threads, each on a connection of its own, reading random cases with
    GET /{id} until stopped; every request's latency."""

    def __init__(self, url: str, ids: list[str], connections: int) -> None:
        self.address = urlsplit(url)
        self.ids = ids
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.errors = 0
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._read, args=(n,)) for n in range(connections)]

    def _read(self, seed_: int) -> None:
        rng = random.Random(seed_)
        conn = http.client.HTTPConnection(self.address.hostname, self.address.port, timeout=10)
        mine: list[float] = []
        errors = 0
        while not self.stop.is_set():
            started = time.perf_counter()
            conn.request("GET", "/" + rng.choice(self.ids))
            answer = conn.getresponse()
            answer.read()
            mine.append(time.perf_counter() - started)
            if answer.status != 200:
                errors += 1
        conn.close()
        with self._lock:
            self.latencies += mine
            self.errors += errors

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def summary(self, seconds: float) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        p99 = ordered[int(len(ordered) * 0.99) - 1] if ordered else 0.0
        return {
            "requests": len(ordered),
            "rps": len(ordered) / seconds,
            "p50_ms": statistics.median(ordered) * 1000 if ordered else 0.0,
            "p99_ms": p99 * 1000,
            "errors": self.errors,
        }


def post_bulk(url: str, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    address = urlsplit(url)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=600)
    started = time.perf_counter()
    conn.request("POST", "/_bulk", json.dumps(body), {"Content-Type": "application/json"})
    answer = conn.getresponse()
    text = answer.read()
    took = time.perf_counter() - started
    conn.close()
    if answer.status != 200:
        raise RuntimeError(f"POST /_bulk answered {answer.status}: {text[:500]!r}")
    return took, json.loads(text)


def one_by_one(url: str, ids: list[str], status: str) -> float:
    """The same change as single requests, one after another: what a batch replaces."""
    address = urlsplit(url)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    started = time.perf_counter()
    for case in ids:
        body = json.dumps({"status": status})
        conn.request("PUT", f"/{case}/status", body, {"Content-Type": "application/json"})
        answer = conn.getresponse()
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"PUT /{case}/status answered {answer.status}")
    took = time.perf_counter() - started
    conn.close()
    return took


def export(server: Server, fmt: str) -> dict[str, Any]:
    """Read the whole export, counting lines, sampling the workers' memory meanwhile."""
    address = urlsplit(server.url)
    before = sum(server.worker_rss_kib())
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], sum(server.worker_rss_kib()))

    sampler = threading.Thread(target=sample)
    sampler.start()
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", f"/_export?format={fmt}")
    answer = conn.getresponse()
    lines = size = 0
    while chunk := answer.read(1 << 20):
        lines += chunk.count(b"\n")
        size += len(chunk)
    took = time.perf_counter() - started
    conn.close()
    done.set()
    sampler.join()
    if answer.status != 200:
        raise RuntimeError(f"GET /_export answered {answer.status}")
    # CSV: a header line; a line break inside a quoted cell would count too (none here).
    cases = lines - 1 if fmt == "csv" else lines
    return {
        "cases": cases,
        "seconds": took,
        "cases_per_s": cases / took,
        "mb": size / 1e6,
        "rss_growth_mb": (peak[0] - before) / 1024,
    }


def _load(averages: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in averages)


def render(result: dict[str, Any]) -> str:
    b = result["bulk"]
    lines = [
        f"# Bulk actions and export, {result['cases']:,} cases",
        "",
        f"`{result['command']}`; `taskflow serve` with {result['workers']} workers x "
        f"{result['threads']} threads, PostgreSQL on the same machine. Load average (1, 5, "
        f"15 min) as the measuring began: {_load(result['load_before'])}, as it ended: "
        f"{_load(result['load_after'])} (a shared machine with 2 cores: other work ran too).",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| POST /_bulk, status of {BATCH:,} cases, one hook | {b['seconds']:.2f} s "
        f"({b['succeeded']} succeeded) | <= 6 s |",
        f"| GET /{{id}} at 4 connections during it: p99 | {b['readers']['p99_ms']:.1f} ms "
        f"({b['readers']['rps']:.0f} req/s, {b['readers']['errors']} errors) | <= 200 ms |",
        f"| GET /{{id}} at 4 connections alone: p99 | {result['alone']['p99_ms']:.1f} ms "
        f"({result['alone']['rps']:.0f} req/s) | |",
        f"| the same change of {BATCH:,} other cases as PUT /{{id}}/status one after another, "
        f"readers beside | {result['one_by_one_s']:.2f} s | (what a batch replaces) |",
    ]
    for fmt in ("ndjson", "csv"):
        e = result["export"][fmt]
        lines.append(
            f"| GET /_export?format={fmt} | {e['cases_per_s']:,.0f} cases/s ({e['cases']:,} "
            f"cases, {e['mb']:.0f} MB in {e['seconds']:.1f} s) | >= 20,000 |"
        )
        growth = e["rss_growth_mb"]
        lines.append(f"| worker RSS growth during the {fmt} export | {growth:.1f} MB | <= 50 MB |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--connections", type=int, default=4)
    add_dsn_option(parser)
    parser.add_argument("--database", default="taskflow_bench_bulk")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    args = parser.parse_args(argv)
    if args.cases < 3 * BATCH:
        parser.error(f"--cases must be at least {3 * BATCH}")

    RESULTS.mkdir(exist_ok=True)
    dsn = with_database(args.dsn, args.database)
    if not args.reuse:
        log(f"creating {args.database} and seeding {args.cases:,} cases")
        recreate_database(args.dsn, args.database)
        store = PostgresStore(dsn)
        store.migrate()
        store.close()
        log(f"seeded in {seed(dsn, args.cases):.1f}s")

    # The batch takes the first cases, the readers the others: no reader waits on a row the
    # batch holds, which is what "other cases keep answering" measures.
    batch = [case_id(n) for n in range(1, BATCH + 1)]
    singles = [case_id(n) for n in range(BATCH + 1, 2 * BATCH + 1)]
    others = [case_id(n) for n in range(2 * BATCH + 1, args.cases + 1)]
    server = Server(dsn, args.workers, args.threads, extra=("--app", "benchmarks.bulk_app:flow"))
    load_before = list(os.getloadavg())
    try:
        log("GET /{id} alone, 5 s")
        with Readers(server.url, others, args.connections) as alone:
            time.sleep(5)
        alone_summary = alone.summary(5)

        log(f"POST /_bulk of {BATCH} cases, with GET /{{id}} beside it")
        # A status no case has yet, so that each case changes (statuses are [a-z-]+).
        status = "moved-" + "".join(chr(97 + int(d)) for d in str(int(time.time())))
        started = time.perf_counter()
        with Readers(server.url, others, args.connections) as readers:
            time.sleep(0.5)
            took, answer = post_bulk(server.url, {"ids": batch, "action": {"status": status}})
        window = time.perf_counter() - started
        bulk = {
            "seconds": took,
            "succeeded": answer["meta"]["succeeded"],
            "failed": answer["meta"]["failed"],
            "readers": readers.summary(window),
        }
        log(f"bulk: {took:.2f}s, readers p99 {bulk['readers']['p99_ms']:.1f} ms")

        log(f"the same as {BATCH} single PUT /{{id}}/status, with GET /{{id}} beside them")
        with Readers(server.url, others, args.connections):
            singly = one_by_one(server.url, singles, status)
        log(f"one by one: {singly:.2f}s")

        exports = {}
        for fmt in ("ndjson", "csv"):
            log(f"GET /_export?format={fmt}")
            exports[fmt] = export(server, fmt)
            log(f"{fmt}: {exports[fmt]['cases_per_s']:,.0f} cases/s")
    finally:
        server.stop()

    result = {
        "cases": args.cases,
        "workers": args.workers,
        "threads": args.threads,
        "command": f"python -m benchmarks.bulk --cases {args.cases}",
        "load_before": load_before,
        "load_after": list(os.getloadavg()),
        "alone": alone_summary,
        "bulk": bulk,
        "one_by_one_s": singly,
        "export": exports,
    }
    save(f"bulk-{args.cases}", result, render)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
