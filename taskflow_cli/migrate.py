"""``taskflow migrate``: bring the database's schema up to date, then say what was applied."""

from __future__ import annotations

import click

from taskflow_compose import database_url, store_from_url
from taskflow_compose.environment import DEFAULT_DATABASE
from taskflow_compose.sealing import sealer_from_environment
from taskflow_core import Taskflow
from taskflow_core.errors import StoreError, one_line

from .database import migrate_database


@click.command(
    help="Create or update the database schema; running it again changes nothing.\n\n"
    "The database is --dsn (else $TASKFLOW_DATABASE_URL); else PostgreSQL when an option "
    "below or a PG* variable names one; else the SQLite file taskflow.db, as `serve` uses. "
    "A PostgreSQL database that does not exist is created (the role needs CREATEDB)."
)
@click.option(
    "--host",
    help="The PostgreSQL server's host (not an address to listen on: that is "
    "`serve --host`). [env: PGHOST]",
)
@click.option("--port", type=click.IntRange(1, 65535), help="PostgreSQL port. [env: PGPORT]")
@click.option("--user", help="PostgreSQL role. [env: PGUSER]")
@click.option("--password", help="PostgreSQL password. [env: PGPASSWORD]")
@click.option("--database", help="PostgreSQL database. [env: PGDATABASE]")
@click.option(
    "--dsn",
    metavar="URL",
    help="postgresql://... or sqlite:///path.db [env: TASKFLOW_DATABASE_URL]. An option "
    "above overrides the same part of it; it overrides the PG* variables.",
)
def migrate(
    host: str | None,
    port: int | None,
    user: str | None,
    password: str | None,
    database: str | None,
    dsn: str | None,
) -> None:
    options = {"host": host, "port": port, "user": user, "password": password, "database": database}
    given = {name: value for name, value in options.items() if value is not None}
    url = database_url(dsn)
    if url is None and given:
        url = "postgresql://"  # everything from the options and libpq's environment
    if url is not None and url.startswith("sqlite:") and given:
        raise click.UsageError(f"--{next(iter(given))} applies to PostgreSQL, not to {url}")

    try:
        store = store_from_url(url, **given)
    except ValueError as exc:
        raise click.UsageError(one_line(exc)) from exc
    try:
        sealer = sealer_from_environment()
    except ValueError as exc:
        raise click.UsageError(f"TASKFLOW_SECRET_KEY: {one_line(exc)}") from exc
    try:
        migrate_database(store, why=DEFAULT_DATABASE if url is None else "")
        if sealer is not None:
            # Secrets and URLs with credentials stored before there was a key, or under an
            # older one: sealed now.
            try:
                sealed = Taskflow(store, secrets=sealer).seal_webhook_secrets()
            except (StoreError, ValueError) as exc:
                raise click.ClickException(f"sealing webhook secrets: {one_line(exc)}") from exc
            click.echo(f"sealed the secrets and URLs of {sealed} webhook(s) with the current key")
    finally:
        store.close()
