"""Composition: turn configuration (a database URL, a host module, the environment) into a
store, a flow and an app. The one place that knows every adapter; the CLI and the gunicorn
factory both call it.
"""

from .environment import DATABASE_URL_ENV, database_url
from .flows import load_attr, load_flow
from .stores import DEFAULT_SQLITE_PATH, create_database, store_from_url

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_SQLITE_PATH",
    "create_database",
    "database_url",
    "load_attr",
    "load_flow",
    "store_from_url",
]
