"""Test databases on a PostgreSQL server: made from a template, and used again.

Making a database from a template is quick; dropping one is not: ``DROP DATABASE`` waits for
a checkpoint of the whole server, seconds on a busy one. So a migrated test database whose
schema the test left as it found it is emptied (``TRUNCATE``) and given to the next test of
the process; one whose schema, settings or migration history the test changed (a trigger
added, a migration's row edited) is dropped, on a thread of its own, and a fresh one made.
Whether the schema is as found is a fingerprint of the catalog, taken of the template once.
"""

from __future__ import annotations

import collections
import itertools
import os
import queue
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from tests.support import alone

# What a test could change in a database that emptying its tables would not undo.
_FINGERPRINT = """
SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), '')) FROM (
  SELECT 'c:' || n.nspname || '.' || c.relname || ':' || c.relkind::text || ':'
         || coalesce(array_to_string(c.reloptions, ';'), '') || ':'
         || coalesce(array_to_string(c.relacl, ';'), '') AS item
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
  UNION ALL
  SELECT 'a:' || a.attrelid::regclass || '.' || a.attname || ':' || a.atttypid || ':'
         || a.attnotnull || ':' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'k:' || conrelid::regclass || '.' || conname || ':' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT 't:' || tgrelid::regclass || '.' || tgname || ':' || tgenabled::text
  FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'p:' || p.oid::regprocedure || ':' || md5(p.prosrc)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT 'n:' || nspname FROM pg_namespace
  UNION ALL
  SELECT 'x:' || extname || ':' || extversion FROM pg_extension
  UNION ALL
  SELECT 's:' || array_to_string(setconfig, ';') FROM pg_db_role_setting
  WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
  UNION ALL
  SELECT 'm:' || version || ':' || name || ':' || coalesce(checksum, '')
  FROM taskflow_migrations
) AS catalog
"""
_TABLES = """
SELECT string_agg(format('%I.%I', schemaname, tablename), ', ')
FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'taskflow_migrations'
"""


# Every database this process makes has a number of its own, whichever Databases makes it.
_numbers = itertools.count()


class Databases:
    """The test databases of one test process on one server."""

    def __init__(self, server: Any) -> None:
        self._server = server
        self._drops: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._dropper = threading.Thread(target=self._drop_queued, name="drop-test-databases")
        self._dropper.start()
        self._free: dict[str, list[str]] = {}  # template -> emptied databases made from it
        self._fingerprints: dict[str, str] = {}
        self.stats: collections.Counter[str] = collections.Counter()

    def close(self) -> None:
        if os.environ.get("TASKFLOW_TEST_DB_STATS"):
            print(f"\n[databases] {dict(self.stats)}", file=sys.stderr)
        for names in self._free.values():
            for name in names:
                self._drops.put(name)
        self._drops.put(None)
        self._dropper.join()

    @contextmanager
    def fresh(self, template: str, *, reuse: bool) -> Iterator[str]:
        """A database as ``template`` is, the test's own until it ends. ``reuse``: emptied
        afterwards for the next test, when the test left its schema as it found it."""
        free = self._free.setdefault(template, [])
        name = free.pop() if reuse and free else self._create(template)
        self.stats["used"] += 1
        kept = False
        try:
            yield name
        finally:
            if reuse:
                kept = self._empty(template, name)
                self.stats["emptied" if kept else "dirty"] += 1
                if kept:
                    free.append(name)
            if not kept:
                self._drops.put(name)

    @contextmanager
    def scratch(self, suffix: str) -> Iterator[psycopg.Connection[Any]]:
        """An empty database of a module's own (one it seeds, say), on an autocommit
        connection; dropped on the dropping thread afterwards, so no test waits for it."""
        name = f"{self._server.dbname}_{suffix}"
        with self._maintenance() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            with self.connect(name, autocommit=True) as conn:
                yield conn
        finally:
            self._drops.put(name)

    def _create(self, template: str) -> str:
        name = f"{template.removesuffix('_tmpl')}_{next(_numbers)}"
        with self._maintenance() as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        return name

    def _empty(self, template: str, name: str) -> bool:
        """Empty a used database for the next test; False when it cannot be (its schema
        changed, or it would not be emptied), and is to be dropped."""
        with self._maintenance() as conn:
            # Sessions a test left open (a store it did not close) would hold locks.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        try:
            with self.connect(name, autocommit=True) as conn:
                conn.execute("SET lock_timeout = '5s'")
                if template not in self._fingerprints:
                    with self.connect(template, autocommit=True) as original:
                        self._fingerprints[template] = _fingerprint(original)
                if _fingerprint(conn) != self._fingerprints[template]:
                    return False
                row = conn.execute(_TABLES).fetchone()
                if row and row[0]:
                    conn.execute(f"TRUNCATE {row[0]} RESTART IDENTITY CASCADE")
        except psycopg.Error:
            return False
        return True

    def connect(self, dbname: str, **options: Any) -> psycopg.Connection[Any]:
        server = self._server
        return psycopg.connect(
            host=server.host,
            port=server.port,
            user=server.user,
            password=server.password,
            dbname=dbname,
            **options,
        )

    def _maintenance(self) -> psycopg.Connection[Any]:
        return self.connect(self._server.maintenance_dbname, autocommit=True)

    def _drop_queued(self) -> None:
        with self._maintenance() as conn:
            while (name := self._drops.get()) is not None:
                # Never while a timed test runs: the checkpoint stalls the machine's disk.
                with alone.shared():
                    conn.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(name)
                        )
                    )


def _fingerprint(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute(_FINGERPRINT).fetchone()
    return str(row[0]) if row else ""
