"""Acting on many cases in the case browser (docs/browser.md), timed on a real PostgreSQL.

python -m benchmarks.ui_bulk --cases 1000 (at most 1,000: what one batch takes). Creates the
cases in a fresh database, then times, in this process through the WSGI app (the server's
time: no network, no browser):

- the dry run's confirmation page: POST /ui/bulk for every case matching a filter;
- the confirmed run and its results page: POST /ui/bulk/run (a status change per case,
  each in its own transaction, one hook bound);
- the same confirmation posted again (the replay: nothing done);
- the export link: GET /ui/export.csv with the same filter, read to its end.

Results: results/ui-bulk-<cases>.{md,json}. The issue's target for the batch itself (POST
/_bulk, benchmarks/bulk.py): 1,000 status changes with a hook <= 6 s.
"""

from __future__ import annotations

import argparse
import re
import time
from html import unescape
from typing import Any
from urllib.parse import urlencode

import falcon.testing

from taskflow_core import Taskflow
from taskflow_postgres import PostgresStore

from .run import RESULTS, add_dsn_option, log, recreate_database, save, with_database

FORM = {"Content-Type": "application/x-www-form-urlencoded", "X-User": "bench"}


class HeaderUser:
    def process_request(self, req: Any, resp: Any) -> None:
        req.context.user = {"profile": {"id": req.get_header("X-User") or "bench"}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    add_dsn_option(parser)
    parser.add_argument("--database", default="taskflow_bench_ui_bulk")
    args = parser.parse_args(argv)
    if not 1 <= args.cases <= 1000:
        parser.error("--cases is from 1 to 1000: one batch")

    RESULTS.mkdir(exist_ok=True)
    dsn = with_database(args.dsn, args.database)
    recreate_database(args.dsn, args.database)
    store = PostgresStore(dsn)
    store.migrate()
    flow = Taskflow(store).transition("new", "open").transition("open", "closed")
    hooked: list[str] = []
    flow.hook("status:*:closed", lambda event: hooked.append(event.id))
    user = {"profile": {"id": "bench"}}
    started = time.perf_counter()
    for n in range(args.cases):
        case_id = flow.create({"title": f"Case {n}", "n": n}, user=user)["id"]
        flow.set_status(case_id, "open", user=user)
    log(f"created {args.cases} cases in {time.perf_counter() - started:.1f} s")

    from taskflow_falcon import create_app

    client = falcon.testing.TestClient(
        create_app(flow, middleware=[HeaderUser()], ui_secret=b"benchmark secret, 16+ bytes")
    )
    inbox = client.simulate_get("/ui/", query_string="status=open", headers=FORM)
    cookies = {cookie.name: cookie.value for cookie in inbox.cookies.values()}
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', inbox.text)
    assert match
    fields = [("csrf_token", match.group(1)), ("filters", "status=open"), ("scope", "matching")]
    fields += [("verb", "status"), ("new_status", "closed")]

    def post(path: str, body: list[tuple[str, str]]) -> tuple[float, falcon.testing.Result]:
        began = time.perf_counter()
        result = client.simulate_post(path, body=urlencode(body), headers=FORM, cookies=cookies)
        assert result.status_code == 200, result.text[:500]
        return round(time.perf_counter() - began, 3), result

    preview_s, preview = post("/ui/bulk", fields)
    form = preview.text.split('action="/ui/bulk/run"')[1].split("</form>")[0]
    confirm = [(n, unescape(v)) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', form)]
    run_s, done = post("/ui/bulk/run", confirm)
    assert f"{args.cases} of {args.cases} cases changed" in done.text
    assert len(hooked) == args.cases
    replay_s, again = post("/ui/bulk/run", confirm)
    assert "nothing was changed a second time" in again.text
    assert len(hooked) == args.cases
    began = time.perf_counter()
    exported = client.simulate_get(
        "/ui/export.csv", query_string="status=closed", headers=FORM, cookies=cookies
    )
    export_s = round(time.perf_counter() - began, 3)
    assert exported.text.count("\r\n") == args.cases + 1

    result: dict[str, Any] = {
        "cases": args.cases,
        "confirmation page s": preview_s,
        "confirmation page bytes": len(preview.content),
        "run and results page s": run_s,
        "results page bytes": len(done.content),
        "replay s": replay_s,
        "export csv s": export_s,
    }
    log(str(result))
    save(f"ui-bulk-{args.cases}", result, render)
    store.close()
    return 0


def render(result: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"# Acting on {result['cases']:,} cases in the case browser, PostgreSQL",
            "",
            "Server time through the WSGI app (python -m benchmarks.ui_bulk).",
            "",
            "| step | seconds | page bytes |",
            "|---|---|---|",
            f"| dry run, confirmation page | {result['confirmation page s']} | "
            f"{result['confirmation page bytes']:,} |",
            f"| confirmed run (one hook), results page | {result['run and results page s']} | "
            f"{result['results page bytes']:,} |",
            f"| the confirmation posted again (replay) | {result['replay s']} | |",
            f"| export link, CSV of the changed cases | {result['export csv s']} | |",
            "",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
