"""The suite's own test databases (tests/support/databases.py): one a test used is given to
the next test emptied, unless the test changed its schema; then it is dropped."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.databases import Databases

pytestmark = pytest.mark.postgres


def test_a_used_database_comes_back_empty_and_a_changed_one_is_not_used_again(
    postgres_migrated_server: Any,
) -> None:
    databases = Databases(postgres_migrated_server)
    template = postgres_migrated_server.template_dbname
    try:
        with databases.fresh(template, reuse=True) as first, databases.connect(first) as conn:
            conn.execute(
                "INSERT INTO cases (id, status, data, created_at, updated_at)"
                " VALUES (gen_random_uuid(), 'new', '{}', now(), now())"
            )
            conn.commit()
        with databases.fresh(template, reuse=True) as second, databases.connect(second) as conn:
            assert second == first
            assert conn.execute("SELECT count(*) FROM cases").fetchone() == (0,)
            conn.execute("CREATE TABLE stray (id int)")
            conn.commit()
        with databases.fresh(template, reuse=True) as third:
            assert third != first
        assert databases.stats == {"used": 3, "emptied": 2, "dirty": 1}
    finally:
        databases.close()
