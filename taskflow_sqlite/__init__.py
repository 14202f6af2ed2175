"""The embedded store: cases in one SQLite file, on the standard library's sqlite3."""

from .store import SqliteStore

__all__ = ["SqliteStore"]
