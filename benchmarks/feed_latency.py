"""The change feed's latency: from a write's commit to a waiting reader's answer.

    python -m benchmarks.feed_latency [--rate 200] [--duration 20] [--readers 4] [--stranger]

A real `taskflow serve` on a fresh database; writers `POST /` at ``--rate`` a second
in all, each case stamped with the time its request was sent; readers long-poll `GET
/_changes?wait=25` from where they were and note when each case reaches them. A case's
latency is its arrival at a reader minus the moment its POST was sent (so it includes the
write itself: an upper bound of commit to answer), and minus the moment the POST was
answered (after the commit: a lower bound). ``--stranger`` holds a transaction open in
another database of the server for the whole run (tests/support/hold_transaction.py),
which must change nothing. Results in `results/feed-latency.{json,md}`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import platform
import statistics
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from taskflow_postgres import PostgresStore
from tests.support.hold_transaction import HeldTransaction

from .run import Server, log, recreate_database, save, with_database


class Client:
    """One keep-alive HTTP connection to the server."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self._conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)

    def request(self, method: str, path: str, body: Any = None) -> Any:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json"} if payload else {}
        self._conn.request(method, path, body=payload, headers=headers)
        answer = self._conn.getresponse()
        data = answer.read()
        if answer.status >= 300:
            raise RuntimeError(f"{method} {path}: {answer.status} {data[:200]!r}")
        return json.loads(data)

    def close(self) -> None:
        self._conn.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="writes per second, in all")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of writing")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="taskflow_bench_feed")
    parser.add_argument("--stranger", action="store_true", help="hold one open elsewhere")
    args = parser.parse_args(argv)

    dsn = with_database(args.dsn, args.database)
    recreate_database(args.dsn, args.database)
    store = PostgresStore(dsn)
    store.migrate()
    store.close()

    sent: dict[str, float] = {}
    answered: dict[str, float] = {}
    arrived: list[dict[str, float]] = [{} for _ in range(args.readers)]
    errors: list[str] = []
    writing = threading.Event()
    stop = threading.Event()

    with ExitStack() as stack:
        if args.stranger:
            held = stack.enter_context(HeldTransaction(args.dsn))
            log(f"holding transaction {held.xid} open in {held.database}")
        server = Server(dsn, args.workers, args.threads, log_name="server-feed-latency.log")
        stack.callback(server.stop)

        def read(n: int) -> None:
            client = Client(server.url, timeout=60)
            try:
                cursor = client.request("GET", "/_changes")["meta"]["next"]
                while not stop.is_set():
                    after = f"&after={cursor}" if cursor else ""
                    page = client.request("GET", f"/_changes?wait=25&limit=1000{after}")
                    now = time.time()
                    for item in page["data"]:
                        arrived[n][item["caseId"]] = now
                    cursor = page["meta"]["next"]
            except Exception as exc:
                if not stop.is_set():
                    errors.append(f"reader {n}: {exc}")
            finally:
                client.close()

        def write(n: int) -> None:
            client = Client(server.url, timeout=30)
            interval = args.writers / args.rate
            due = time.monotonic() + n * interval / args.writers
            try:
                while writing.is_set():
                    time.sleep(max(0.0, due - time.monotonic()))
                    due += interval
                    started = time.time()
                    case = client.request("POST", "/", {"bench": n})["data"]
                    sent[case["id"]] = started
                    answered[case["id"]] = time.time()
            except Exception as exc:
                errors.append(f"writer {n}: {exc}")
            finally:
                client.close()

        readers = [threading.Thread(target=read, args=(n,)) for n in range(args.readers)]
        for thread in readers:
            thread.start()
        time.sleep(1.0)
        writing.set()
        writers = [threading.Thread(target=write, args=(n,)) for n in range(args.writers)]
        started = time.monotonic()
        for thread in writers:
            thread.start()
        time.sleep(args.duration)
        writing.clear()
        for thread in writers:
            thread.join(30)
        elapsed = time.monotonic() - started
        time.sleep(2.0)  # the last writes reach the readers
        stop.set()
        # Readers end with their wait: a last write wakes them at once.
        closing = Client(server.url, timeout=10)
        closing.request("POST", "/", {"closing": True})
        closing.close()
        for thread in readers:
            thread.join(30)

    from_sent = [at[case] - sent[case] for at in arrived for case in sent if case in at]
    from_answered = [at[case] - answered[case] for at in arrived for case in sent if case in at]
    missing = sum(1 for at in arrived for case in sent if case not in at)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "rate_asked": args.rate,
        "rate_done": round(len(sent) / elapsed, 1),
        "writes": len(sent),
        "readers": args.readers,
        "stranger": args.stranger,
        "missing": missing,
        "errors": errors,
        "from_sent_ms": summary(from_sent),
        "from_answered_ms": summary(from_answered),
    }
    save("feed-latency", result, render)
    return 0 if not errors and not missing else 1


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "p50": round(1000 * statistics.median(values), 1),
        "p99": round(1000 * percentile(values, 0.99), 1),
        "max": round(1000 * max(values), 1),
    }


def render(result: dict[str, Any]) -> str:
    lines = [
        f"## Change feed latency — {result['when']}",
        "",
        f"{result['writes']} writes at {result['rate_done']}/s (asked {result['rate_asked']}),"
        f" {result['readers']} waiting readers, stranger's transaction open:"
        f" {'yes' if result['stranger'] else 'no'}; missing: {result['missing']},"
        f" errors: {len(result['errors'])}.",
        "",
        "| measured from | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for key, name in (("from_sent_ms", "POST sent"), ("from_answered_ms", "POST answered")):
        row = result[key]
        lines.append(f"| {name} | {row.get('p50')} | {row.get('p99')} | {row.get('max')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
