"""The HTTP benchmark: taskflow under gunicorn on PostgreSQL, against PostgreSQL's own ceiling.

    python -m benchmarks.run [--cases 100000] [--duration 10] [--dsn postgresql://...]

Seeds a fresh database by bulk SQL, measures PostgreSQL's ceiling for each endpoint's work
with pgbench, drives each endpoint of a real `taskflow serve` with wrk, and writes
benchmarks/results/results-<cases>.{json,md}. `python -m benchmarks.plot` draws the PNG.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from taskflow_postgres import PostgresStore

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

# The original Node.js taskflow on a 2-core machine of this kind, 100,000 cases.
ORIGINAL = {
    "GET /{id}": {"rps": 694, "ratio": 0.062},
    "POST /": {"rps": 461, "ratio": 0.058},
    "PUT /{id}/status": {"rps": 382, "ratio": 0.110},
    "GET /?status=": {"rps": 140},
    "GET /?data[subject]=": {"rps": 47},
}


AFTER_WRITES = "(after writes)"


# PostgreSQL's ceiling for an endpoint: pgbench on the statements its request sends.
CEILING_SCRIPTS = {"GET /{id}": "get.sql", "POST /": "create.sql", "PUT /{id}/status": "status.sql"}


def case_id(n: int) -> str:
    return str(uuid.UUID(hashlib.md5(str(n).encode()).hexdigest()))


def add_dsn_option(parser: argparse.ArgumentParser) -> None:
    """``--dsn``: the server the benchmark makes its database on (``BENCH_DSN``)."""
    parser.add_argument(
        "--dsn",
        default=os.environ.get("BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )


def write_ids(cases: int) -> Path:
    """10,000 ids of seeded cases, chosen the same way every run, for the wrk scripts."""
    ids = RESULTS / "ids.txt"
    rng = random.Random(42)
    ids.write_text("\n".join(case_id(rng.randint(1, cases)) for _ in range(10_000)) + "\n")
    return ids


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def with_database(dsn: str, name: str) -> str:
    """The same server URL with another database name."""
    base, _, _ = dsn.rpartition("/")
    return f"{base}/{name}"


# Every database a benchmark makes says so; one that does not is somebody's, never dropped.
MARK = "made by taskflow's benchmarks: dropped and made again by each run"


def recreate_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        found = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
        if found is not None and found[0] != MARK:
            raise SystemExit(
                f"database {name} exists and was not made by a benchmark: choose another with "
                "--database, or drop it yourself"
            )
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(MARK))
        )


def seed(dsn: str, cases: int, script: str = "seed.sql", **variables: int | str) -> float:
    """Run a seed script of this folder with psql (``cases`` and ``variables`` as its psql
    variables); the seconds it took."""
    started = time.monotonic()
    named = [f"{name}={value}" for name, value in {"cases": cases, **variables}.items()]
    subprocess.run(
        [
            "psql",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            *(part for variable in named for part in ("-v", variable)),
            "-f",
            str(HERE / script),
            dsn,
        ],
        check=True,
    )
    return time.monotonic() - started


def pgbench(dsn: str, script: str, cases: int, clients: int, duration: int) -> float:
    """Transactions per second of one pgbench script."""
    out = subprocess.run(
        [
            "pgbench",
            "-n",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(duration),
            "-D",
            f"cases={cases}",
            "-f",
            str(HERE / "pgbench" / script),
            dsn,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if not found:
        raise RuntimeError(f"pgbench printed no tps:\n{out}")
    return float(found.group(1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def comes_up(url: str, process: subprocess.Popen[bytes], within: float = 30) -> bool:
    """Whether a server just started answers ``GET /?limit=1`` with 200 within ``within``
    seconds (False at once if its process ends first)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url + "/?limit=1", timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


class Server:
    """A real `taskflow serve` (gunicorn) in a process group of its own."""

    def __init__(
        self,
        dsn: str,
        workers: int,
        threads: int,
        *,
        executable: str | None = None,
        extra: tuple[str, ...] = (),
        log_name: str = "server.log",
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            executable or str(Path(sys.executable).with_name("taskflow")),
            "serve",
            *extra,
            "--dsn",
            dsn,
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.log = open(RESULTS / log_name, "w")  # noqa: SIM115 - lives as long as the server
        # gunicorn puts its working directory first on sys.path: another checkout's server
        # runs in that checkout, or it would import this one's packages as it loads them.
        cwd = Path(executable).resolve().parents[2] if executable else None
        self.process = subprocess.Popen(
            command,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            cwd=cwd,
        )
        if not comes_up(self.url, self.process):
            self.stop()
            raise RuntimeError(f"taskflow serve did not answer; see {self.log.name}")

    def worker_rss_kib(self) -> list[int]:
        children = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout.split()
        sizes = []
        for pid in children:
            status = Path(f"/proc/{pid}/status").read_text()
            found = re.search(r"VmRSS:\s+(\d+) kB", status)
            if found:
                sizes.append(int(found.group(1)))
        return sizes

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()


def process_cpu(dsn: str, group: int) -> dict[str, float]:
    """CPU seconds so far of a server's process group (a `taskflow serve` or the original,
    each started in a session of its own), of the PostgreSQL backends of its database, and
    of PostgreSQL's shared writers: read around a wrk run, the CPU each side spent."""
    database = dsn.rpartition("/")[2]
    ticks = os.sysconf("SC_CLK_TCK")
    used = {"server": 0.0, "postgres (this database)": 0.0, "postgres (shared writers)": 0.0}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # After the command's name: state, ppid, pgrp, ... utime (12th), stime (13th).
        fields = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        if int(fields[2]) == group:
            used["server"] += seconds
        elif command.startswith("postgres:") and f" {database} " in command:
            used["postgres (this database)"] += seconds
        elif command.startswith("postgres:") and any(
            w in command for w in ("walwriter", "checkpointer", "background writer")
        ):
            used["postgres (shared writers)"] += seconds
    return used


def wrk(
    url: str,
    script: str | None,
    connections: int,
    duration: int,
    ids: Path,
    *,
    threads: int = 2,
) -> dict[str, Any]:
    scripts = [HERE / "wrk" / script] if script else []
    # A file per call: several wrk may run at once (benchmarks/pgbouncer.py).
    handle, name = tempfile.mkstemp(prefix="wrk-script-", suffix=".lua", dir=RESULTS)
    os.close(handle)
    combined = Path(name)
    combined.write_text(
        "".join(p.read_text() + "\n" for p in scripts) + (HERE / "wrk" / "report.lua").read_text()
    )
    env = {**os.environ, "IDS": str(ids), "WRK_DIR": str(HERE / "wrk")}
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(connections),
                "-d",
                f"{duration}s",
                "--timeout",
                "10s",
                "-s",
                str(combined),
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
    finally:
        combined.unlink(missing_ok=True)
    found = re.search(r"WRK_JSON (\{.*\})", out)
    if not found:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    raw = json.loads(found.group(1))
    errors = raw["non2xx"] + raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "requests": raw["requests"],
        "errors": errors,
    }


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("rps", "p50_ms", "p99_ms")
    merged = {k: statistics.median(r[k] for r in runs) for k in keys}
    merged["errors"] = sum(r["errors"] for r in runs)
    merged["requests"] = sum(r["requests"] for r in runs)
    merged["runs"] = len(runs)
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per row (median)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    add_dsn_option(parser)
    parser.add_argument("--database", default="taskflow_bench")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument(
        "--taskflow",
        help="the `taskflow` executable to migrate and serve with (default: this checkout's);"
        " another checkout's, to measure the code before a change on the same scripts",
    )
    parser.add_argument("--label", default="", help="appended to the results' file names")
    args = parser.parse_args(argv)

    missing = [tool for tool in ("wrk", "pgbench", "psql") if shutil.which(tool) is None]
    if missing:
        print(
            f"missing: {', '.join(missing)}; on Debian or Ubuntu: "
            "apt-get install wrk postgresql-client postgresql-contrib",
            file=sys.stderr,
        )
        return 2
    RESULTS.mkdir(exist_ok=True)
    dsn = with_database(args.dsn, args.database)
    if not args.reuse:
        log(f"creating {args.database} and seeding {args.cases:,} cases")
        recreate_database(args.dsn, args.database)
        if args.taskflow:
            subprocess.run([args.taskflow, "migrate", "--dsn", dsn], check=True)
        else:
            store = PostgresStore(dsn)
            store.migrate()
            store.close()
        log(f"seeded in {seed(dsn, args.cases):.1f}s")

    ids = write_ids(args.cases)

    c = args.connections
    ceilings: dict[str, float] = {}
    server = Server(dsn, args.workers, args.threads, executable=args.taskflow)
    rows: list[dict[str, Any]] = []
    try:
        # Resident memory of each worker after every row: the first reading after warm-up
        # against the last shows whether memory grows with the requests served.
        rss: list[dict[str, Any]] = [{"after": "start", "kib": server.worker_rss_kib()}]
        status_list, data_list = "/?status=in-review", "/?data%5Bsubject%5D=subject-42"
        plan = [
            # Reads first, on the table as seeded and vacuumed (as autovacuum keeps it)...
            ("GET /{id}", "/", "get.lua", [c]),
            ("GET /?status=", status_list, None, [4, 16, 32]),
            ("GET /?data[subject]=", data_list, None, [4, 16, 32]),
            # ...then the writes, and the lists again before any vacuum has caught up: the
            # count then visits heap pages the writes left without an all-visible bit.
            ("POST /", "/", "create.lua", [c]),
            ("PUT /{id}/status", "/", "status.lua", [c]),
            (f"GET /?status= {AFTER_WRITES}", status_list, None, [4, c]),
            (f"GET /?data[subject]= {AFTER_WRITES}", data_list, None, [c]),
        ]
        for name, path, script, conns in plan:
            for n in conns:
                runs, ceiling_runs = [], []
                for _ in range(args.repeat):
                    # The ceiling right before each of the endpoint's runs, on the same
                    # table: this shared VM's speed drifts by half within a run, and a
                    # ceiling taken minutes apart made the ratio measure the drift.
                    if name in CEILING_SCRIPTS:
                        ceiling_runs.append(
                            pgbench(dsn, CEILING_SCRIPTS[name], args.cases, c, args.duration)
                        )
                    runs.append(wrk(server.url + path, script, n, args.duration, ids))
                row = {"endpoint": name, "connections": n, **median_of(runs)}
                if ceiling_runs:
                    ceilings[name] = statistics.median(ceiling_runs)
                    row["ceiling"] = ceilings[name]
                    row["ratio"] = row["rps"] / ceilings[name]
                    log(f"ceiling {name}: {ceilings[name]:.0f} tps (pgbench, {c} clients)")

                rows.append(row)
                log(
                    f"{name} c={n}: {row['rps']:.0f} req/s, p50 {row['p50_ms']:.1f} ms, "
                    f"p99 {row['p99_ms']:.1f} ms, errors {row['errors']}"
                )
                served = sum(r["requests"] for r in rows)
                rss.append(
                    {"after": f"{name} c={n}", "served": served, "kib": server.worker_rss_kib()}
                )
    finally:
        server.stop()

    result = {
        "cases": args.cases,
        "duration_s": args.duration,
        "repeat": args.repeat,
        "workers": args.workers,
        "threads": args.threads,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "postgres": psycopg.connect(dsn).info.server_version,
        },
        "ceilings": ceilings,
        "rows": rows,
        "rss": rss,
        "served_by": args.taskflow or "this checkout",
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    save(f"results-{args.cases}{'-' + args.label if args.label else ''}", result, render)
    return 0


def save(name: str, result: dict[str, Any], render: Callable[[dict[str, Any]], str]) -> None:
    """Write ``result`` to ``results/<name>.json`` and its table to ``<name>.md``; print it."""
    table = render(result)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(table)
    print(table)


def render(result: dict[str, Any]) -> str:
    lines = [
        f"## {result['cases']:,} cases — {result['when']}",
        "",
        f"{result['machine']['cpus']} cores, {result['machine']['platform']}, Python "
        f"{result['machine']['python']}, PostgreSQL {result['machine']['postgres']}; "
        f"gunicorn {result['workers']} workers x {result['threads']} threads; medians of "
        f"{result['repeat']} runs of {result['duration_s']} s.",
        "",
        "| endpoint | conns | req/s | p50 ms | p99 ms | errors | PG ceiling | ratio "
        "| original | vs original |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        original = ORIGINAL[row["endpoint"].removesuffix(f" {AFTER_WRITES}")]
        if "ratio" in row:
            ceiling, ratio = f"{row['ceiling']:.0f}", f"{row['ratio']:.3f}"
            versus = f"{row['ratio'] / original['ratio']:.1f}x ratio"
            theirs = f"{original['ratio']:.3f}"
        else:
            ceiling = ratio = "—"
            theirs = f"{original['rps']} req/s"
            versus = f"{row['rps'] / original['rps']:.1f}x req/s"
        lines.append(
            f"| {row['endpoint']} | {row['connections']} | {row['rps']:.0f} | "
            f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']} | {ceiling} | "
            f"{ratio} | {theirs} | {versus} |"
        )
    rss = result["rss"]
    warm, last = rss[1], rss[-1]
    lines += [
        "",
        f"Worker RSS (KiB): at start {rss[0]['kib']}; after the first row (warm, "
        f"{warm['served']:,} requests) {warm['kib']}; at the end ({last['served']:,} requests) "
        f"{last['kib']}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
