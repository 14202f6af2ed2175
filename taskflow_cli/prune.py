"""``taskflow prune``: delete the feed's, the deliveries' and the idempotency keys' old rows."""

from __future__ import annotations

import re
from datetime import timedelta

import click

from taskflow_compose import database_url, load_flow
from taskflow_compose.environment import app_spec as app_spec_from_env
from taskflow_core.errors import StoreError, one_line

from .loading import load_app
from .options import dsn_option

_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_AGE = re.compile(r"([0-9]{1,6})([dhms])")


def parse_age(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m`` or ``45s``."""
    found = _AGE.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not an age such as 30d, 12h, 90m or 45s")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def age_text(age: timedelta) -> str:
    """``age`` as ``parse_age`` reads it, in its largest whole unit (``30d``, ``90m``)."""
    seconds = int(age.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _age(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    try:
        return parse_age(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command(
    help="Delete what grows forever: the change feed's changes and the webhook deliveries that "
    "ended, older than --older-than, and expired idempotency keys; in batches of short "
    "transactions, safe beside a serving node. Never a case or its activity log. A feed "
    "reader whose cursor points into pruned changes gets 410 naming where to read on."
)
@dsn_option
@click.option(
    "--app",
    "app_spec",
    metavar="MODULE:ATTR",
    help="A host module's configured Taskflow (its store). [env: TASKFLOW_APP]",
)
@click.option(
    "--older-than", "older_than", metavar="AGE", callback=_age, required=True, help="e.g. 30d, 12h."
)
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option("--batch", type=click.IntRange(min=1), default=1000, show_default=True)
def prune(
    dsn: str | None, app_spec: str | None, older_than: timedelta, dry_run: bool, batch: int
) -> None:
    spec = app_spec or app_spec_from_env()
    flow = load_app(spec, lambda: load_flow(spec, database_url(dsn), existing=True))
    try:
        counts = flow.prune(older_than, dry_run=dry_run, batch=batch)
    except StoreError as exc:
        raise click.ClickException(one_line(exc)) from exc
    finally:
        flow.store.close()
    verb = "would delete" if dry_run else "deleted"
    click.echo(
        f"{verb} {counts['changes']} change(s), {counts['deliveries']} delivery(ies), "
        f"{counts['idempotencyKeys']} idempotency key(s)"
    )
