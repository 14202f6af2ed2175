"""Word-prefix search two ways on the same text: migration 0012's `simple` tsvector with a
GIN index, and pg_trgm's GIN index (docs/finding.md says why the first was chosen).

python -m benchmarks.finding_trgm --database taskflow_bench_finding (a database seeded by
benchmarks/finding.py; --reuse there keeps it). Builds, beside case_search, a table of each
case's text as the search reads it (the same string values and comments, split into words,
lowercased, each word after a space) and a pg_trgm GIN index over it, timing the build; then,
in one connection, times each kind of search in turns:

- a word on 20 cases (`w<k>x`), a prefix on ~20,000 cases (`w<k>`, three characters), a
  word on every case (`protocol`) and two words together;
- the write cost: 2,000 cases' words written again into each table (a new row version,
  as a change of data makes), per case, in turns; both indexes keep a pending list of
  256 kB, as migration 0012's does.

The pg_trgm query for a prefix p is `words LIKE '% p%'`: exactly "a word starting with p"
in a text whose every word follows a space. Results: results/finding-trgm-<cases>.{md,json}.
The extra table and its index are dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import psycopg

from .run import add_dsn_option, log, save, with_database

# The text taskflow_search_document indexes (the seed has no comment edits or deletions),
# as words each after a space, lowercased as the `simple` configuration lowercases.
TEXT = """
create table bench_trgm_search as
select cases.id as case_id, ' ' || lower(regexp_replace(coalesce(texts.text, ''),
  '[^[:alnum:]]+', ' ', 'g')) || ' ' as words
from cases, lateral (
  select string_agg(text, ' ') as text from (
    select value #>> '{}' as text
    from jsonb_path_query(cases.data, 'strict $.** ? (@.type() == "string")') as value
    union all
    select comment from activity_log
    where activity_log.case_id = cases.id and activity_log.event_name = 'comment'
  ) as each_text
) as texts
"""
SEARCHES = {
    "tsvector": "SELECT count(*) FROM case_search WHERE document @@ to_tsquery('simple', %s)",
    "pg_trgm": "SELECT count(*) FROM bench_trgm_search WHERE {like}",
}
REWRITES = {
    "tsvector": (
        "UPDATE case_search SET document = document || strip(to_tsvector('simple', %s))"
        " WHERE case_id = %s"
    ),
    "pg_trgm": "UPDATE bench_trgm_search SET words = words || %s || ' ' WHERE case_id = %s",
}


def queries(kind: str, words: list[str]) -> tuple[str, list[str]]:
    """The statement finding cases with a word starting with each of ``words``, its params."""
    if kind == "tsvector":
        return SEARCHES[kind], [" & ".join(f"'{w}':*" for w in words)]
    like = " AND ".join("words LIKE %s" for _ in words)
    return SEARCHES[kind].format(like=like), [f"% {w}%" for w in words]


def timed(conn: psycopg.Connection[Any], statement: str, params: list[Any]) -> float:
    started = time.perf_counter()
    conn.execute(statement, params).fetchall()
    return (time.perf_counter() - started) * 1000


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="taskflow_bench_finding")
    parser.add_argument("--searches", type=int, default=200, help="per kind of search")
    add_dsn_option(parser)
    args = parser.parse_args(argv)
    dsn = with_database(args.dsn, args.database)
    rng = random.Random(25)
    with psycopg.connect(dsn, autocommit=True) as conn:
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"
        ).fetchone()
        if available is None:
            print("pg_trgm is not available on this server", file=sys.stderr)
            return 2
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]  # type: ignore[index]
        conn.execute("DROP TABLE IF EXISTS bench_trgm_search")
        log(f"{cases:,} cases: the text of each")
        started = time.monotonic()
        conn.execute(TEXT)
        conn.execute("ALTER TABLE bench_trgm_search ADD PRIMARY KEY (case_id)")
        text_s = time.monotonic() - started
        log("building the pg_trgm index")
        started = time.monotonic()
        conn.execute(
            "CREATE INDEX bench_trgm_search_index ON bench_trgm_search"
            " USING gin (words gin_trgm_ops) WITH (gin_pending_list_limit = 256)"
        )
        build_s = time.monotonic() - started
        conn.execute("VACUUM ANALYZE bench_trgm_search")
        sizes = conn.execute(
            "SELECT pg_relation_size('case_search_document_index'),"
            " pg_relation_size('bench_trgm_search_index'),"
            " pg_table_size('case_search'), pg_table_size('bench_trgm_search')"
        ).fetchone()
        assert sizes is not None
        log("the tsvector index again, for its build time")
        conn.execute("DROP INDEX IF EXISTS bench_tsvector_again")
        started = time.monotonic()
        conn.execute(
            "CREATE INDEX bench_tsvector_again ON case_search USING gin (document)"
            " WITH (gin_pending_list_limit = 256)"
        )
        tsvector_build_s = time.monotonic() - started
        conn.execute("DROP INDEX bench_tsvector_again")

        # The seed's words: one per 20 of the cases it made (those with a licence).
        seeded = conn.execute("SELECT count(*) FROM cases WHERE data ? 'licence'").fetchone()
        words = seeded[0] // 20  # type: ignore[index]
        shapes: dict[str, Callable[[], list[str]]] = {
            "a word on 20 cases (w<k>x)": lambda: [f"w{rng.randrange(words)}x"],
            "a 3-character prefix (w<k>, k in 10-99)": lambda: [f"w{rng.randrange(10, 100)}"],
            "a word on every case (protocol)": lambda: ["protocol"],
            "two words (w<k>x mice)": lambda: [f"w{rng.randrange(words)}x", "mice"],
        }
        rows: list[dict[str, Any]] = []
        for shape, pick in shapes.items():
            samples: dict[str, list[float]] = {"tsvector": [], "pg_trgm": []}
            counts: dict[str, set[int]] = {"tsvector": set(), "pg_trgm": set()}
            for _ in range(args.searches):
                chosen = pick()
                for kind in ("tsvector", "pg_trgm"):  # in turns: drift falls on both
                    statement, params = queries(kind, chosen)
                    samples[kind].append(timed(conn, statement, params))
                    counts[kind].add(conn.execute(statement, params).fetchone()[0])  # type: ignore[index]
            for kind in ("tsvector", "pg_trgm"):
                row = {"search": shape, "kind": kind, **percentiles(samples[kind])}
                row["matches"] = f"{min(counts[kind])}-{max(counts[kind])}"
                log(f"{shape} {kind}: p50 {row['p50_ms']:.2f} ms")
                rows.append(row)

        ids = [r[0] for r in conn.execute("SELECT case_id FROM case_search LIMIT 2000")]
        spent = {"tsvector": 0.0, "pg_trgm": 0.0}
        conn.execute("BEGIN")  # rolled back: the words stay as they were
        for n, case_id in enumerate(ids):
            for kind in ("tsvector", "pg_trgm"):  # in turns, as the searches
                started = time.perf_counter()
                conn.execute(REWRITES[kind], (f"rewritten{n}", case_id))
                spent[kind] += time.perf_counter() - started
        conn.execute("ROLLBACK")
        writes = {kind: seconds * 1000 / len(ids) for kind, seconds in spent.items()}
        conn.execute("DROP TABLE bench_trgm_search")
    result = {
        "cases": cases,
        "text_s": text_s,
        "trgm_build_s": build_s,
        "tsvector_build_s": tsvector_build_s,
        "tsvector_index_bytes": sizes[0],
        "trgm_index_bytes": sizes[1],
        "tsvector_table_bytes": sizes[2],
        "trgm_table_bytes": sizes[3],
        "write_ms": writes,
        "searches": args.searches,
        "load": os.getloadavg(),
        "rows": rows,
    }
    save(f"finding-trgm-{cases}", result, render)
    return 0


def render(result: dict[str, Any]) -> str:
    mb = 1024 * 1024
    lines = [
        f"# Word-prefix search: `simple` tsvector vs pg_trgm, {result['cases']:,} cases",
        "",
        f"Load average at the end: {', '.join(f'{x:.2f}' for x in result['load'])} (a shared "
        f"2-core machine). {result['searches']} searches of each shape, in turns, one connection;"
        " the database's time per statement as the client sees it.",
        "",
        "| | tsvector + GIN (0012) | pg_trgm GIN |",
        "|---|---|---|",
        f"| index size | {result['tsvector_index_bytes'] / mb:.0f} MB"
        f" | {result['trgm_index_bytes'] / mb:.0f} MB |",
        f"| table (the words, or the text) | {result['tsvector_table_bytes'] / mb:.0f} MB"
        f" | {result['trgm_table_bytes'] / mb:.0f} MB |",
        f"| index build | {result['tsvector_build_s']:.1f} s | {result['trgm_build_s']:.1f} s |",
        f"| a case's words written again (row + index) | {result['write_ms']['tsvector']:.3f} ms"
        f" | {result['write_ms']['pg_trgm']:.3f} ms |",
        "",
        "| search | kind | matches | p50 ms | p99 ms |",
        "|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['search']} | {row['kind']} | {row['matches']} | {row['p50_ms']:.2f}"
            f" | {row['p99_ms']:.2f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
