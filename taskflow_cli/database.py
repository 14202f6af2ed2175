"""What the commands share about databases: migrating with failures told in one line."""

from __future__ import annotations

from collections.abc import Callable

import click

from taskflow_core.errors import StoreError, StoreUnavailable, one_line


def apply_migrations(migrate: Callable[[], list[str]]) -> list[str]:
    """Run ``migrate``; a failure becomes a one-line ClickException (no traceback)."""
    try:
        return migrate()
    except StoreUnavailable as exc:
        raise click.ClickException(f"cannot connect to the database: {exc}") from exc
    except StoreError as exc:
        raise click.ClickException(one_line(exc)) from exc


def report(applied: list[str]) -> None:
    for name in applied:
        click.echo(f"applied {name}")
    if not applied:
        click.echo("database is up to date")
