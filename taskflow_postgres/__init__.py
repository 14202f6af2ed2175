"""The PostgreSQL store: psycopg 3, a connection pool per process, and SQL migrations."""

from .errors import DatabaseUnavailable, MigrationFailed, PostgresStoreError
from .store import PostgresStore

__all__ = ["DatabaseUnavailable", "MigrationFailed", "PostgresStore", "PostgresStoreError"]
