"""Options several commands share, written once so their names and help stay alike."""

from __future__ import annotations

import click

# The database of the commands that serve or work on a flow (migrate has its own, with the
# original's --host/--port/... beside it).
dsn_option = click.option(
    "--dsn",
    metavar="URL",
    help="postgresql://... or sqlite:///path.db; default $TASKFLOW_DATABASE_URL, else "
    "PostgreSQL when a PG* variable (PGHOST, PGDATABASE...) names a server, else the SQLite "
    "file taskflow.db in the working directory.",
)
