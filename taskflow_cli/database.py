"""What the commands share about databases: saying which, migrating it, checking that it
answers, with failures told in one line."""

from __future__ import annotations

import os

import click

from taskflow_compose import create_database, database_url
from taskflow_compose.environment import DATABASE_URL_ENV
from taskflow_core.application.readiness import check_ready
from taskflow_core.errors import (
    DatabaseMissing,
    NotMigrated,
    StoreError,
    StoreUnavailable,
    one_line,
)
from taskflow_core.ports import Store


def name_database(dsn: str | None) -> str | None:
    """The database the command names (``database_url``'s one rule), also put in the
    environment: a host module (``--app``) builds its store from there, as under
    ``taskflow serve``'s workers, and would otherwise open the default SQLite file."""
    url = database_url(dsn)
    if url:
        os.environ[DATABASE_URL_ENV] = url
    return url


def migrate_database(store: Store, *, why: str = "") -> None:
    """Say which database, bring its schema up to date, and say what was applied.

    A PostgreSQL database that does not exist yet is created, then migrated, so that a first
    run needs no ``createdb``. ``why`` follows the database's name: say, that it is the
    default. A failure is a one-line ClickException (no traceback).
    """
    click.echo(f"migrating {store}{why}")
    try:
        try:
            applied = store.migrate()
        except DatabaseMissing:
            created = create_database(store)
            if created is None:
                raise
            click.echo(f"created database {created}")
            applied = store.migrate()
    except StoreUnavailable as exc:
        raise click.ClickException(f"cannot connect to the database: {one_line(exc)}") from exc
    except StoreError as exc:
        raise click.ClickException(one_line(exc)) from exc
    for name in applied:
        click.echo(f"applied {name}")
    if not applied:
        click.echo("database is up to date")


def check_answers(store: Store) -> None:
    """Return when the store answers a query on its tables; else a one-line ClickException
    saying whether it cannot be reached or needs ``taskflow migrate``."""
    try:
        check_ready(store)
    except DatabaseMissing as exc:
        raise click.ClickException(one_line(exc)) from exc
    except NotMigrated as exc:
        raise click.ClickException(
            f"{store} has no taskflow schema: run `taskflow migrate` first"
            " (or serve without --no-migrate)"
        ) from exc
    except StoreUnavailable as exc:
        raise click.ClickException(f"cannot connect to the database: {one_line(exc)}") from exc
    except StoreError as exc:
        raise click.ClickException(one_line(exc)) from exc


def check_not_misconfigured(store: Store) -> None:
    """For a command that waits out an outage (``taskflow relay``): fail in one line now on
    what waiting cannot mend (no such database, no schema, a host name that resolves to
    nothing); any other failure to connect is left to be waited out."""
    try:
        check_ready(store)
    except (DatabaseMissing, NotMigrated):
        check_answers(store)  # says it as serve and timers do
    except StoreUnavailable as exc:
        if _UNKNOWN_HOST in str(exc):
            raise click.ClickException(f"cannot connect to the database: {one_line(exc)}") from exc


# What libpq says of a host name no resolver knows.
_UNKNOWN_HOST = "could not translate host name"
