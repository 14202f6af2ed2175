"""From a database URL to a store: the one place that knows every store adapter."""

from __future__ import annotations

from taskflow_core.ports import Store

from .environment import through_pgbouncer

DEFAULT_SQLITE_PATH = "taskflow.db"


def store_from_url(url: str | None, **options: object) -> Store:
    """A store for ``postgresql://...`` (or a libpq ``key=value`` string), ``sqlite:///path``,
    or None for ``taskflow.db``. ``TASKFLOW_PGBOUNCER=1`` puts a PostgreSQL store in its
    PgBouncer mode, as ``?pgbouncer=true`` on the URL does. ``existing``: the database must
    be there and migrated (a SQLite file is then not created on first use); the other
    options go to ``PostgresStore``."""
    existing = bool(options.pop("existing", False))
    if url is None or url.startswith("sqlite:"):
        from taskflow_sqlite import SqliteStore

        path = DEFAULT_SQLITE_PATH if url is None else _sqlite_path(url)
        return SqliteStore(path, create=not existing)
    if url.startswith(("postgresql://", "postgres://")) or _is_conninfo(url):
        from taskflow_postgres import PostgresStore

        if through_pgbouncer():
            options.setdefault("pgbouncer", True)
        return PostgresStore(url, **options)  # type: ignore[arg-type]
    raise ValueError(
        "database URL must start with postgresql:// or sqlite:///, "
        "or be a libpq connection string (host=... dbname=...)"
    )


def create_database(store: Store) -> str | None:
    """Create the database ``store`` names, which its ``migrate()`` found missing; its name,
    or None for a store that has no databases to create."""
    from taskflow_postgres import PostgresStore

    if not isinstance(store, PostgresStore):
        return None
    return store.create_database()


def _is_conninfo(text: str) -> bool:
    # libpq's key=value form: "host=db port=5432 dbname=taskflow".
    first = text.strip().split(None, 1)[0] if text.strip() else ""
    return "=" in first and "://" not in text


def _sqlite_path(url: str) -> str:
    # sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy spells them.
    rest = url.removeprefix("sqlite:").removeprefix("//")
    if rest.startswith("/"):
        rest = rest[1:]
    if not rest:
        raise ValueError("sqlite URL needs a file path: sqlite:///path/to/taskflow.db")
    return rest
