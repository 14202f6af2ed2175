"""Composition: turn configuration (a database URL, a host module) into a store and a flow.

The one place that knows every adapter; the CLI and the gunicorn factory both call it.
"""

from __future__ import annotations

import importlib
import os

from taskflow_core import Taskflow
from taskflow_core.ports import Store

DEFAULT_SQLITE_PATH = "taskflow.db"


def database_url(explicit: str | None = None) -> str | None:
    """The URL to use: an explicit one, else ``TASKFLOW_DATABASE_URL``, else None (embedded)."""
    return explicit or os.environ.get("TASKFLOW_DATABASE_URL") or None


def store_from_url(url: str | None, **options: object) -> Store:
    """A store for ``postgresql://...`` (or a libpq ``key=value`` string), ``sqlite:///path``,
    or None for ``taskflow.db``."""
    if url is None or url.startswith("sqlite:"):
        from taskflow_sqlite import SqliteStore

        path = DEFAULT_SQLITE_PATH if url is None else _sqlite_path(url)
        return SqliteStore(path)
    if url.startswith(("postgresql://", "postgres://")) or _is_conninfo(url):
        from taskflow_postgres import PostgresStore

        return PostgresStore(url, **options)  # type: ignore[arg-type]
    raise ValueError(
        "database URL must start with postgresql:// or sqlite:///, "
        "or be a libpq connection string (host=... dbname=...)"
    )


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


def load_attr(spec: str) -> object:
    """The object ``module:attr`` names (``attr`` defaults to ``flow``)."""
    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr or "flow")


def load_flow(app_spec: str | None, url: str | None, **store_options: object) -> Taskflow:
    """The host's configured flow (``module:attr``), else a plain flow on the URL's store.

    A host module may name a ``Taskflow`` object, or a callable returning one. When it has no
    store of its own configured this is where it gets one. ``store_options`` (e.g. the
    pool's ``max_size``) go to the store made here, not to a host module's own store.
    """
    if app_spec:
        target = load_attr(app_spec)
        flow = target() if callable(target) and not isinstance(target, Taskflow) else target
        if not isinstance(flow, Taskflow):
            raise TypeError(f"{app_spec} is not a taskflow_core.Taskflow")
        return flow
    return Taskflow(store_from_url(url, **store_options))
