"""Draw benchmarks/results/benchmark.png from the results-<cases>.json files beside it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display here; files only
import matplotlib.pyplot as plt

RESULTS = Path(__file__).resolve().parent / "results"


def load() -> list[dict[str, Any]]:
    # results-<cases>.json only: a labelled run (results-<cases>-<label>.json, such as the
    # code before a change) is another code's, not a point of this one's curve.
    found = [
        json.loads(p.read_text())
        for p in RESULTS.glob("results-*.json")
        if re.fullmatch(r"results-\d+\.json", p.name)
    ]
    return sorted(found, key=lambda r: r["cases"])


def main() -> int:
    results = load()
    if not results:
        print("no results yet: run python -m benchmarks.run first", file=sys.stderr)
        return 1
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))

    base = results[0]
    single = [r for r in base["rows"] if "ratio" in r]
    names = [r["endpoint"] for r in single]
    ours = [r["rps"] for r in single]
    ceilings = [r["ceiling"] for r in single]
    x = range(len(names))
    left.bar([i - 0.2 for i in x], ceilings, width=0.4, label="PostgreSQL ceiling (pgbench)")
    left.bar([i + 0.2 for i in x], ours, width=0.4, label="taskflow (wrk, HTTP)")
    for i, r in enumerate(single):
        left.text(i + 0.2, r["rps"], f"{r['ratio']:.2f}", ha="center", va="bottom")
    left.set_xticks(list(x), names)
    left.set_ylabel("requests or transactions per second")
    left.set_title(f"Throughput at {base['cases']:,} cases, 16 connections (label: ratio)")
    left.legend()

    for endpoint in ("GET /?status=", "GET /?data[subject]="):
        for connections in (16,):
            points = [
                (r["cases"], row["p50_ms"])
                for r in results
                for row in r["rows"]
                if row["endpoint"] == endpoint and row["connections"] == connections
            ]
            if points:
                right.plot(
                    *zip(*points, strict=True),
                    marker="o",
                    label=f"{endpoint} p50, {connections} conns",
                )
    right.set_xscale("log")
    right.set_xlabel("cases in the table")
    right.set_ylabel("latency, ms")
    right.set_ylim(bottom=0)
    right.set_title("List latency as the table grows")
    right.legend()

    machine = base["machine"]
    fig.suptitle(
        f"{machine['cpus']} cores, PostgreSQL {machine['postgres']}, Python {machine['python']}, "
        f"gunicorn {base['workers']}x{base['threads']} — {base['when']}"
    )
    fig.tight_layout()
    out = RESULTS / "benchmark.png"
    fig.savefig(out, dpi=110)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
