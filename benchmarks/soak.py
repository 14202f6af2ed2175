"""Memory over a long run: a real `taskflow serve` under mixed traffic, RSS read every 30 s.

    python -m benchmarks.soak [--minutes 10] [--database taskflow_bench]

Runs on a database `python -m benchmarks.run` seeded (``--database``, default
taskflow_bench), with wrk's mix of `wrk/soak.lua` (60% reads, 20% status changes, 10%
creates, 10% inbox listings) at 16 connections. Writes results/soak.{json,md}: each worker's
resident memory at each reading, and the run's throughput and errors. A leak grows with the
requests served; caches that fill and stop level off.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import time
from typing import Any

from .run import HERE, RESULTS, Server, add_dsn_option, case_id, log, save, with_database

INTERVAL = 30  # seconds between readings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--cases", type=int, default=100_000, help="how many the database has")
    parser.add_argument("--connections", type=int, default=16)
    add_dsn_option(parser)
    parser.add_argument("--database", default="taskflow_bench")
    args = parser.parse_args(argv)

    RESULTS.mkdir(exist_ok=True)
    ids = RESULTS / "ids.txt"
    rng = random.Random(7)
    ids.write_text("\n".join(case_id(rng.randint(1, args.cases)) for _ in range(10_000)) + "\n")
    script = RESULTS / "wrk-soak.lua"
    script.write_text(
        (HERE / "wrk" / "soak.lua").read_text() + (HERE / "wrk" / "report.lua").read_text()
    )
    seconds = int(args.minutes * 60)

    server = Server(with_database(args.dsn, args.database), 2, 4)
    readings: list[dict[str, Any]] = []
    try:
        started = time.monotonic()
        readings.append({"s": 0, "kib": server.worker_rss_kib()})
        env = {**os.environ, "IDS": str(ids), "WRK_DIR": str(HERE / "wrk")}
        load = subprocess.Popen(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(args.connections),
                "-d",
                f"{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                server.url,
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        while True:
            try:
                wait = INTERVAL - (time.monotonic() - started) % INTERVAL
                output = load.communicate(timeout=wait)[0]
                break
            except subprocess.TimeoutExpired:
                at = round(time.monotonic() - started)
                readings.append({"s": at, "kib": server.worker_rss_kib()})
                log(f"{at:4d} s: worker RSS {[k // 1024 for k in readings[-1]['kib']]} MiB")
        readings.append({"s": round(time.monotonic() - started), "kib": server.worker_rss_kib()})
    finally:
        server.stop()

    found = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    raw = json.loads(found.removeprefix("WRK_JSON "))
    errors = raw["non2xx"] + raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    result = {
        "minutes": args.minutes,
        "requests": raw["requests"],
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "errors": errors,
        "readings": readings,
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    save("soak", result, render)
    return 0


def render(result: dict[str, Any]) -> str:
    lines = [
        f"# Soak: {result['minutes']:g} minutes of mixed traffic ({result['when']})",
        "",
        f"{result['requests']:,} requests, {result['rps']:.0f} req/s, {result['errors']} errors;"
        " each worker's RSS in MiB:",
        "",
        "| after | "
        + " | ".join(f"worker {n + 1}" for n in range(len(result["readings"][0]["kib"])))
        + " |",
        "|---|" + "---|" * len(result["readings"][0]["kib"]),
    ]
    for reading in result["readings"]:
        sizes = " | ".join(f"{kib / 1024:.1f}" for kib in reading["kib"])
        lines.append(f"| {reading['s']} s | {sizes} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
