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
