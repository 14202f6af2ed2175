"""The case browser's pages (docs/browser.md), timed on the server on a real PostgreSQL.

python -m benchmarks.ui --cases 1000000 (default 100,000; --reuse keeps a database seeded
by an earlier run, --requests sets how many of each page are timed). Seeds its database as
benchmarks/finding.py does (benchmarks/finding_seed.sql, the search words in bulk), serves
benchmarks/finding_app.py's flow (five views) with ``create_app`` and times, in this process
through the WSGI app (the server's time: no network, no browser):

- the inbox: GET /ui/?status=open, 50 rows, the five views' counts for its tabs;
- a case page: GET /ui/cases/{id} of a case with 100 activity entries;

and weighs the inbox page (HTML bytes; the stylesheet, fetched once, beside it). The issue's
targets at 1M cases: inbox p50 <= 60 ms, case page p50 <= 40 ms, inbox <= 100 kB.

Results: results/ui-<cases>.{md,json}.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import falcon.testing

from taskflow_compose.environment import DATABASE_URL_ENV
from taskflow_postgres import PostgresStore

from .finding import seed
from .run import RESULTS, add_dsn_option, log, recreate_database, save, with_database

INBOX = "/ui/?status=open"
ENTRIES = 100
TARGETS = {"inbox p50 ms": 60.0, "case p50 ms": 40.0, "inbox kB": 100.0}


def timed(client: falcon.testing.TestClient, path: str, requests: int) -> dict[str, float]:
    path, _, query = path.partition("?")
    # A few first, unmeasured: the connection pool and PostgreSQL's caches warm up.
    for _ in range(5):
        client.simulate_get(path, query_string=query)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        result = client.simulate_get(path, query_string=query)
        times.append((time.perf_counter() - started) * 1000)
        assert result.status_code == 200, result.text[:500]
    times.sort()
    return {
        "p50 ms": round(statistics.median(times), 2),
        "p95 ms": round(times[int(len(times) * 0.95) - 1], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    add_dsn_option(parser)
    parser.add_argument("--database", default="taskflow_bench_ui")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    args = parser.parse_args(argv)

    RESULTS.mkdir(exist_ok=True)
    dsn = with_database(args.dsn, args.database)
    if not args.reuse:
        log(f"creating {args.database} and seeding {args.cases:,} cases")
        recreate_database(args.dsn, args.database)
        store = PostgresStore(dsn)
        store.migrate()
        store.close()
        seeded, backfill = seed(dsn, args.cases)
        log(f"seeded in {seeded:.1f} s, search words in {backfill:.1f} s")

    os.environ[DATABASE_URL_ENV] = dsn
    from taskflow_falcon import create_app

    from .finding_app import flow  # five views, on this database

    client = falcon.testing.TestClient(create_app(flow, ui_secret=b"benchmark secret, 16+ bytes"))
    user = {"profile": {"id": "user-7"}}
    busy = flow.create({"title": "A busy case", "applicant": {"name": "Ada"}}, user=user)["id"]
    for n in range(ENTRIES - 1):
        flow.comment(busy, f"Note {n}: asked the applicant for more papers", user=user)
    assert len(flow.get(busy)["activityLog"]) == ENTRIES

    inbox = client.simulate_get("/ui/", query_string=INBOX.partition("?")[2])
    rows = inbox.text.count('<tr data-case-id="')
    stylesheet = client.simulate_get("/ui/static/ui.css")
    result: dict[str, Any] = {
        "cases": args.cases,
        "requests": args.requests,
        "inbox": {"path": INBOX, "rows": rows, **timed(client, INBOX, args.requests)},
        "case": {"entries": ENTRIES, **timed(client, f"/ui/cases/{busy}", args.requests)},
        "inbox bytes": len(inbox.content),
        "stylesheet bytes": len(stylesheet.content),
    }
    result["targets"] = TARGETS
    log(str(result))
    save(f"ui-{args.cases}", result, render)
    flow.store.close()
    return 0


def render(result: dict[str, Any]) -> str:
    inbox, case = result["inbox"], result["case"]
    return "\n".join(
        [
            f"# The case browser's pages, {result['cases']:,} cases on PostgreSQL",
            "",
            f"Server time through the WSGI app, {result['requests']} requests each "
            "(python -m benchmarks.ui).",
            "",
            "| page | p50 ms | p95 ms | target p50 |",
            "|---|---|---|---|",
            f"| inbox `{inbox['path']}` ({inbox['rows']} rows, 5 view counts) | "
            f"{inbox['p50 ms']} | {inbox['p95 ms']} | 60 |",
            f"| case page ({case['entries']} activity entries) | {case['p50 ms']} | "
            f"{case['p95 ms']} | 40 |",
            "",
            f"Inbox page: {result['inbox bytes']:,} bytes of HTML (target <= 100 kB), "
            f"plus the stylesheet, {result['stylesheet bytes']:,} bytes, fetched once.",
            "",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
