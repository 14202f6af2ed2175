"""Side by side with the original Node.js taskflow, in one run, on the same seed data.

    python -m benchmarks.peer --original-migrate 'CMD' --original-start 'CMD' \
        [--before /path/to/old/.venv/bin/taskflow] [--cases 100000] [--rounds 3]

Each server gets a database of its own, migrated by its own code (the original's through
the command given, run with ``TASKFLOW_POSTGRES_DATABASE``, ``TASKFLOW_POSTGRES_HOST``,
``TASKFLOW_POSTGRES_PORT`` and ``TASKFLOW_POSTGRES_USER`` set, as the original's own
``taskflow migrate`` reads them) and seeded with the same cases by ``seed.sql``. The
original's start command runs with ``PORT`` and the same variables set and must serve the
original's router at ``/`` on 127.0.0.1:$PORT. This repository carries no copy of the
original and no recipe that builds it; bring a checkout of it with its dependencies
installed (benchmarks/README.md, "Against the original").

Rows as the issue that asked for them measured (wrk, 16 connections; lists 4): reads on the
table as seeded, then the writes, then the lists again. Each row runs every server
``--rounds`` times, in an order that turns round by round so that the shared machine's drift
falls on all alike; medians. Results in ``results/peer-<cases>.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Protocol

import psycopg

from .run import (
    RESULTS,
    Server,
    add_dsn_option,
    comes_up,
    free_port,
    log,
    process_cpu,
    recreate_database,
    save,
    seed,
    with_database,
    write_ids,
    wrk,
)

# The original keeps a uuid in activity_log.changed_by (this project's migration 0002 made
# it text): the same users, as uuids.
ORIGINAL_CHANGED_BY = "md5('user-' || (n % 200))::uuid"

STATUS_LIST, DATA_LIST = "/?status=in-review", "/?data%5Bsubject%5D=subject-42"
AFTER = "(after writes)"
# (row, path, wrk script, connections)
PLAN = [
    ("GET /{id}", "/", "get.lua", 16),
    ("GET /?status=", STATUS_LIST, None, 4),
    ("GET /?data[subject]=", DATA_LIST, None, 4),
    ("POST /", "/", "create.lua", 16),
    ("PUT /{id}/status", "/", "status.lua", 16),
    (f"GET /?status= {AFTER}", STATUS_LIST, None, 4),
    (f"GET /?data[subject]= {AFTER}", DATA_LIST, None, 4),
]
# Issue 35's targets: this project's req/s over the original's, same run.
TARGETS = {"GET /{id}": 3.0, "POST /": 2.5, "PUT /{id}/status": 3.0}


class Served(Protocol):
    url: str
    # Started in a session of its own: its pid is its process group's (run.process_cpu).
    process: subprocess.Popen[bytes]

    def stop(self) -> None: ...


class Original:
    """The original, started by the operator's command in a process group of its own."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(RESULTS / "original.log", "w")  # noqa: SIM115 - lives with the server
        self.process = subprocess.Popen(
            shlex.split(command),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env, "PORT": str(port)},
            start_new_session=True,
        )
        if not comes_up(self.url, self.process):
            self.stop()
            raise RuntimeError(f"the original did not answer at {self.url}; see {self.log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        self.log.close()


def original_env(dsn: str) -> dict[str, str]:
    """The variables the original's knexfile reads (its ``test`` environment)."""
    parts = urllib.parse.urlsplit(dsn)
    return {
        "TASKFLOW_POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "TASKFLOW_POSTGRES_PORT": str(parts.port or 5432),
        "TASKFLOW_POSTGRES_USER": parts.username or "postgres",
        "TASKFLOW_POSTGRES_PASSWORD": parts.password or "",
        "TASKFLOW_POSTGRES_DATABASE": parts.path.lstrip("/"),
        "NODE_ENV": "production",
    }


def prepare(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """A database per server, each migrated by its own code and seeded alike."""
    servers: dict[str, dict[str, Any]] = {
        "original": {"database": f"{args.database}_original"},
    }
    if args.before:
        servers["before"] = {"database": f"{args.database}_before", "taskflow": args.before}
    servers["after"] = {"database": f"{args.database}_after", "taskflow": None}
    for name, server in servers.items():
        dsn = with_database(args.dsn, server["database"])
        server["dsn"] = dsn
        recreate_database(args.dsn, server["database"])
        variables: dict[str, str] = {}
        if name == "original":
            env = original_env(dsn)
            subprocess.run(
                shlex.split(args.original_migrate), check=True, env={**os.environ, **env}
            )
            with psycopg.connect(dsn) as conn:
                found = conn.execute("SELECT to_regclass('knex_migrations')").fetchone()
            if found is None or found[0] is None:
                raise SystemExit("--original-migrate left no knex_migrations table behind")
            variables["changed_by"] = ORIGINAL_CHANGED_BY
        else:
            command = [server["taskflow"] or str(Path(sys.executable).with_name("taskflow"))]
            subprocess.run([*command, "migrate", "--dsn", dsn], check=True)
        took = seed(dsn, args.cases, **variables)
        log(f"{name}: seeded {args.cases:,} cases in {took:.1f}s")
    for server in servers.values():
        # Settled before any server is measured: otherwise the first reads set every row's
        # hint bits, and autovacuum comes to the freshly loaded tables mid-run, each falling
        # on whichever server's turn it is.
        with psycopg.connect(server["dsn"], autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
    return servers


def start(name: str, server: dict[str, Any], args: argparse.Namespace) -> Served:
    if name == "original":
        return Original(args.original_start, original_env(server["dsn"]))
    return Server(
        server["dsn"],
        args.workers,
        args.threads,
        executable=server["taskflow"],
        log_name=f"{name}.log",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--original-migrate", required=True, help="applies the original's migrations"
    )
    parser.add_argument("--original-start", required=True, help="serves the original on $PORT")
    parser.add_argument("--before", help="another checkout's `taskflow`, measured beside this one")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    add_dsn_option(parser)
    parser.add_argument("--database", default="taskflow_peer")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None or shutil.which("psql") is None:
        print("needs wrk and psql: apt-get install wrk postgresql-client", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    servers = prepare(args)
    ids = write_ids(args.cases)

    names = list(servers)
    running = {name: start(name, servers[name], args) for name in names}
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    try:
        for row, path, script, connections in PLAN:
            for round_number in range(args.rounds):
                turn = round_number % len(names)
                for name in names[turn:] + names[:turn]:
                    group, dsn = running[name].process.pid, servers[name]["dsn"]
                    before = process_cpu(dsn, group)
                    result = wrk(running[name].url + path, script, connections, args.duration, ids)
                    after = process_cpu(dsn, group)
                    result["cpu_ms"] = {
                        k: 1000 * (after[k] - before[k]) / max(1, result["requests"]) for k in after
                    }
                    runs.setdefault(row, {}).setdefault(name, []).append(result)
                    log(
                        f"{row:32} {name:9} {result['rps']:7.0f} req/s "
                        f"p99 {result['p99_ms']:6.1f} ms errors {result['errors']}"
                    )
    finally:
        for server in running.values():
            server.stop()

    rows = []
    for row, _path, _script, connections in PLAN:
        entry: dict[str, Any] = {"endpoint": row, "connections": connections}
        for name in names:
            results = runs[row][name]
            entry[name] = {
                "rps": statistics.median(r["rps"] for r in results),
                "p99_ms": statistics.median(r["p99_ms"] for r in results),
                "runs": [round(r["rps"]) for r in results],
                "errors": sum(r["errors"] for r in results),
                "cpu_ms": {
                    k: statistics.median(r["cpu_ms"][k] for r in results)
                    for k in results[0]["cpu_ms"]
                },
            }
        rows.append(entry)
    result = {
        "cases": args.cases,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "workers": args.workers,
        "threads": args.threads,
        "servers": names,
        "rows": rows,
        "load": os.getloadavg(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    save(f"peer-{args.cases}", result, render)
    return 0


def render(result: dict[str, Any]) -> str:
    names = result["servers"]
    ours = [n for n in names if n != "original"]
    header = [
        "endpoint",
        "conns",
        *(f"{n} req/s" for n in names),
        *(f"{n} / original" for n in ours),
    ]
    lines = [
        f"## Against the original, {result['cases']:,} cases — {result['when']}",
        "",
        f"Medians of {result['rounds']} runs of {result['duration_s']} s each, servers in turn; "
        f"taskflow under gunicorn {result['workers']} workers x {result['threads']} threads, "
        "the original as its start command hosts it. Load average at the end: "
        + ", ".join(f"{x:.2f}" for x in result["load"])
        + ".",
        "",
        "| " + " | ".join(header) + " | target |",
        "|" + "---|" * (len(header) + 1),
    ]
    for row in result["rows"]:
        base = row["original"]["rps"]
        cells = [row["endpoint"], str(row["connections"])]
        cells += [
            f"{row[n]['rps']:,.0f}" + (f" ({row[n]['errors']} errors)" if row[n]["errors"] else "")
            for n in names
        ]
        cells += [f"{row[n]['rps'] / base:.2f}x" for n in ours]
        target = TARGETS.get(row["endpoint"])
        cells.append(f">= {target}x" if target else "no slower than before")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n" + render_cpu(result)


def render_cpu(result: dict[str, Any]) -> str:
    """Where each server's requests spent CPU: its own processes (gunicorn's workers; node),
    the PostgreSQL backends of its database, PostgreSQL's shared writers (WAL, checkpoints)."""
    names = result["servers"]
    lines = [
        "",
        "CPU per request, ms (medians of the same runs): the server's processes + the"
        " PostgreSQL backends of its database (+ PostgreSQL's shared writers).",
        "",
        "| endpoint | " + " | ".join(names) + " |",
        "|" + "---|" * (len(names) + 1),
    ]
    for row in result["rows"]:
        cells = [row["endpoint"]]
        for name in names:
            cpu = row[name].get("cpu_ms")
            if cpu is None:
                cells.append("")
                continue
            cells.append(
                f"{cpu['server']:.2f} + {cpu['postgres (this database)']:.2f}"
                f" (+ {cpu['postgres (shared writers)']:.2f})"
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
