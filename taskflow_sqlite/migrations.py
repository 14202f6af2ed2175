"""Versioned schema migrations: the SQL files in ``migrations/``, applied once each, in order."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from importlib import resources

from taskflow_core.application.migrations import (
    Recorded,
    Shipped,
    check_history,
    checksum,
    version_of,
)

logger = logging.getLogger(__name__)

MIGRATIONS_TABLE = "taskflow_migrations"


def available() -> list[tuple[str, str]]:
    """``(name, sql)`` of every migration shipped with the package, oldest first."""
    folder = resources.files(__package__ or "taskflow_sqlite").joinpath("migrations")
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".sql")),
        key=lambda entry: entry.name,
    )
    return [(entry.name.removesuffix(".sql"), entry.read_text("utf-8")) for entry in files]


def apply_pending(conn: sqlite3.Connection) -> list[str]:
    """Apply what is not yet recorded; return the names applied (empty when up to date).

    All of it runs in one ``BEGIN IMMEDIATE`` transaction, so two processes starting on a
    fresh file at once take turns: the second waits, then finds everything recorded. DDL is
    transactional in SQLite, so a failing migration leaves no trace.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} ("
            " name TEXT PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL, checksum TEXT)"
        )
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({MIGRATIONS_TABLE})")}
        if "checksum" not in columns:  # made by a release that kept no checksums
            conn.execute(f"ALTER TABLE {MIGRATIONS_TABLE} ADD COLUMN checksum TEXT")
        recorded = {
            version_of(name): Recorded(name, digest)
            for name, digest in conn.execute(f"SELECT name, checksum FROM {MIGRATIONS_TABLE}")
        }
        scripts = available()
        shipped = [
            Shipped(version_of(name), name, checksum(script.encode())) for name, script in scripts
        ]
        check_history(shipped, recorded)
        for migration in shipped:
            # Rows of a release that kept no checksums: what it applied is what it shipped.
            conn.execute(
                f"UPDATE {MIGRATIONS_TABLE} SET checksum = ? WHERE name = ? AND checksum IS NULL",
                (migration.checksum, migration.name),
            )
        applied = []
        for (name, script), migration in zip(scripts, shipped, strict=True):
            if migration.version in recorded:
                continue
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (name, applied_at, checksum) VALUES (?, ?, ?)",
                (name, datetime.now(UTC).isoformat(timespec="microseconds"), migration.checksum),
            )
            applied.append(name)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    for name in applied:
        logger.info("applied migration %s", name)
    return applied


def _statements(script: str) -> list[str]:
    # Not executescript(): it commits any open transaction first, which would release the
    # lock the migrations run under. complete_statement() knows about ';' inside strings
    # and trigger bodies, so splitting on it is safe.
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not _only_comments(buffer):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer!r}")
    return statements


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())
