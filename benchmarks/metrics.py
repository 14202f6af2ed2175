"""What the metrics cost (SPEC §17, issue 29): ``GET /{id}`` and ``PUT /{id}/status``
throughput with and without them, and how long ``GET /metrics`` takes.

    python -m benchmarks.metrics --cases 20000 --duration 3 --repeat 5

On PostgreSQL (``--dsn``, default the local server; the database ``--database`` is dropped
and made again, seeded by seed.sql as benchmarks/run.py seeds it). Requests are made in
process, straight into the WSGI app, one after another: the cost measured is the CPU each
request spends in the metrics (the middleware, the observer), without the network, the
server or a load generator sharing the machine's cores, which would bury a few percent in
their noise. Two apps on the same store, one made with ``create_app(flow)`` and one with
``create_app(flow, metrics=False)`` (on flows of their own, so the second counts no
events), run in alternate rounds of ``--duration`` seconds; the medians of ``--repeat``
rounds are compared.

``GET /metrics``: the scrape as Prometheus makes it, with the store's gauges read afresh
(``cold``: what one scrape per 5 s costs) and from the 5-second cache (``warm``).

Results in ``results/metrics-<cases>.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any

import falcon.testing

from taskflow_core import Taskflow
from taskflow_core.memory import MemoryStore
from taskflow_core.ports import Store
from taskflow_falcon import create_app
from taskflow_falcon.metrics import MetricsObserver, exposition, process_metrics, render
from taskflow_falcon.metrics_http import HttpMetrics
from taskflow_postgres import PostgresStore

from .run import RESULTS, case_id, log, recreate_database, seed, with_database

App = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def call(app: App, method: str, path: str, body: bytes = b"") -> int:
    environ = falcon.testing.create_environ(
        path=path,
        method=method,
        body=body,
        headers={"Content-Type": "application/json"} if body else None,
    )
    status: list[str] = []

    def start_response(code: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        status.append(code)

    for _ in app(environ, start_response):
        pass
    return int(status[0].split()[0])


def throughput(app: App, request: Callable[[App], int], duration: float) -> float:
    done = 0
    started = time.perf_counter()
    deadline = started + duration
    while time.perf_counter() < deadline:
        code = request(app)
        if code != 200:
            raise RuntimeError(f"answered {code}")
        done += 1
    return done / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="taskflow_bench_metrics")
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scrapes", type=int, default=50)
    parser.add_argument(
        "--store",
        choices=("postgres", "memory"),
        default="postgres",
        help="memory: no database, so each request costs least and the metrics' share of it"
        " is largest (an upper bound)",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="both apps without metrics: how far rounds differ by the machine's noise alone",
    )
    args = parser.parse_args(argv)

    store: Store
    if args.store == "postgres":
        recreate_database(args.dsn, args.database)
        dsn = with_database(args.dsn, args.database)
        store = PostgresStore(dsn, min_size=1, max_size=2)
        store.migrate()
        log(f"seeding {args.cases} cases")
        seed(dsn, args.cases)
        # The live queue (seed.sql): the newest 10,000 cases, whose status changes are
        # cheap to make again and again.
        live = [case_id(n) for n in range(max(1, args.cases - 9_999), args.cases + 1)]
    else:
        store = MemoryStore()
        seeding = Taskflow(store)
        live = [seeding.create({"n": n})["id"] for n in range(args.cases)][-10_000:]
    watched = create_app(Taskflow(store), metrics=not args.control)
    quiet = create_app(Taskflow(store), metrics=False)
    rng = random.Random(29)
    toggle = [0]

    def get(app: App) -> int:
        return call(app, "GET", f"/{rng.choice(live)}")

    def put_status(app: App) -> int:
        toggle[0] += 1
        status = b'{"status": "open"}' if toggle[0] % 2 else b'{"status": "in-review"}'
        return call(app, "PUT", f"/{rng.choice(live)}/status", status)

    result: dict[str, Any] = {
        "store": args.store + (" (control: no metrics on either side)" if args.control else ""),
        "cases": args.cases,
        "duration": args.duration,
        "rows": {},
    }
    for name, request in (("GET /{id}", get), ("PUT /{id}/status", put_status)):
        # Warm both (connections, caches) before measuring.
        throughput(watched, request, 0.5)
        throughput(quiet, request, 0.5)
        on: list[float] = []
        off: list[float] = []
        for round_ in range(args.repeat):
            # Alternate which goes first, so a drift of the machine's load favours neither.
            pair = [(watched, on), (quiet, off)]
            for app, into in pair if round_ % 2 == 0 else reversed(pair):
                into.append(throughput(app, request, args.duration))
        with_metrics, without = statistics.median(on), statistics.median(off)
        cost = (without - with_metrics) / without * 100
        result["rows"][name] = {
            "with_rps": round(with_metrics, 1),
            "without_rps": round(without, 1),
            "cost_percent": round(cost, 2),
            "rounds_with": [round(x, 1) for x in on],
            "rounds_without": [round(x, 1) for x in off],
        }
        log(f"{name}: {with_metrics:.0f} req/s with metrics, {without:.0f} without: {cost:+.1f}%")

    # The metrics' own work per request, alone: the middleware's counting and timing, and the
    # observer's count of one event. Set against a request's time above, it is the cost
    # without the noise of rounds run seconds apart on a shared machine.
    metrics = process_metrics()
    middleware = HttpMetrics(metrics)
    observer = MetricsObserver(metrics)
    req = falcon.Request(falcon.testing.create_environ(path=f"/{live[0]}/status", method="PUT"))
    req.uri_template = "/{case_id}/status"
    req.context.started = time.perf_counter()
    resp = falcon.Response()
    resp.status = 200
    calls = 200_000
    started = time.perf_counter()
    for _ in range(calls):
        middleware.process_response(req, resp, None, True)
        observer.events_committed(("status",))
    own_us = (time.perf_counter() - started) / calls * 1e6
    for row in result["rows"].values():
        row["metrics_own_percent"] = round(own_us / (1e6 / row["without_rps"]) * 100, 2)
    result["metrics_own_us"] = round(own_us, 2)
    log(f"the metrics' own work: {own_us:.1f} µs a request")

    cold_registry = exposition(Taskflow(store), ttl=0)
    client = falcon.testing.TestClient(watched)
    client.simulate_get("/metrics")
    scrapes: dict[str, list[float]] = {"cold": [], "warm": []}
    for _ in range(args.scrapes):
        started = time.perf_counter()
        render(cold_registry)
        scrapes["cold"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        answer = client.simulate_get("/metrics")
        scrapes["warm"].append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200
    for kind, times in scrapes.items():
        times.sort()
        row = {
            "p50_ms": round(times[len(times) // 2], 2),
            "max_ms": round(times[-1], 2),
        }
        result["rows"][f"GET /metrics ({kind})"] = row
        log(f"GET /metrics ({kind}): p50 {row['p50_ms']} ms, max {row['max_ms']} ms")
    store.close()

    RESULTS.mkdir(exist_ok=True)
    name = f"metrics-{args.store}-{args.cases}" + ("-control" if args.control else "")
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(render_table(result))
    return 0


def render_table(result: dict[str, Any]) -> str:
    lines = [
        f"# Metrics' cost, {result['store']}, {result['cases']:,} cases"
        f" ({result['duration']} s rounds, in process)",
        "",
        "| request | with metrics | without | difference (median of rounds) | the metrics' own"
        " work |",
        "|---|---|---|---|---|",
    ]
    for name, row in result["rows"].items():
        if "with_rps" in row:
            lines.append(
                f"| {name} | {row['with_rps']} req/s | {row['without_rps']} req/s"
                f" | {row['cost_percent']}% | {row['metrics_own_percent']}% |"
            )
    lines += ["", f"The metrics' own work: {result['metrics_own_us']} µs a request."]
    lines += ["", "| scrape | p50 | max |", "|---|---|---|"]
    for name, row in result["rows"].items():
        if "p50_ms" in row:
            lines.append(f"| {name} | {row['p50_ms']} ms | {row['max_ms']} ms |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
