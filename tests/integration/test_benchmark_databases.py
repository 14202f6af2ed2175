"""The benchmarks drop and make again only databases they made themselves."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from benchmarks.run import recreate_database

pytestmark = pytest.mark.postgres


def test_a_database_the_benchmarks_did_not_make_is_never_dropped(postgres_dsn: str) -> None:
    admin = postgres_dsn.rpartition("/")[0] + "/postgres"
    name = f"taskflow_not_a_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with pytest.raises(SystemExit, match="was not made by a benchmark"):
            recreate_database(admin, name)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
        recreate_database(admin, name)  # made by a benchmark: dropped and made again
        recreate_database(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def test_the_seed_fills_the_original_schema_with_the_same_cases(postgres_dsn: str) -> None:
    """benchmarks/peer.py seeds the original's own tables (its changed_by is a uuid) with
    the cases this project's database gets, so both serve the same ids and lists."""
    from benchmarks.peer import ORIGINAL_CHANGED_BY
    from benchmarks.run import seed, with_database
    from tests.integration.test_postgres_adoption import ORIGINAL_SCHEMA

    admin = postgres_dsn.rpartition("/")[0] + "/postgres"
    name = f"taskflow_bench_original_{uuid.uuid4().hex[:8]}"
    recreate_database(admin, name)
    dsn = with_database(admin, name)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(ORIGINAL_SCHEMA.read_text().encode())
        seed(dsn, 40, changed_by=ORIGINAL_CHANGED_BY)
        with psycopg.connect(dsn) as conn:
            cases = conn.execute("SELECT count(*), count(DISTINCT status) FROM cases").fetchone()
            entries = conn.execute(
                "SELECT count(*), count(changed_by) FROM activity_log"
            ).fetchone()
            three = conn.execute(
                "SELECT count(*) FROM activity_log WHERE changed_by = md5('user-3')::uuid"
            ).fetchone()
        assert cases == (40, 4)  # all in the live queue's four statuses
        assert entries == (80, 80)
        assert three == (2,)  # case 3's two entries, as user-3 (n % 200)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
