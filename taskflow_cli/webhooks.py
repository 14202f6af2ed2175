"""``taskflow webhooks list|remove``: the subscriptions a database holds, and removing one.

Listing shows no secret and none of a URL's credentials; removing cancels the URL's pending
deliveries, so a bad receiver is gone for good unless a host module registers it again.
"""

from __future__ import annotations

import json

import click

from taskflow_compose import database_url, load_flow
from taskflow_compose.environment import app_spec as app_spec_from_env
from taskflow_core import Taskflow
from taskflow_core.domain.webhooks import shown_url
from taskflow_core.errors import StoreError, one_line

from .loading import load_app
from .options import dsn_option

app_option = click.option(
    "--app",
    "app_spec",
    metavar="MODULE:ATTR",
    help="A host module's configured Taskflow (its flow.webhook() registrations are saved "
    "first). [env: TASKFLOW_APP]",
)


def _flow(dsn: str | None, app_spec: str | None) -> Taskflow:
    spec = app_spec or app_spec_from_env()
    return load_app(spec, lambda: load_flow(spec, database_url(dsn)))


@click.group(help="The webhook subscriptions the database holds: list them, remove one.")
def webhooks() -> None:
    pass


@webhooks.command("list", help="One line per subscription: URL, events, signed or not.")
@dsn_option
@app_option
@click.option("--json", "as_json", is_flag=True, help="The list as JSON, as flow.webhooks().")
def list_webhooks(dsn: str | None, app_spec: str | None, as_json: bool) -> None:
    flow = _flow(dsn, app_spec)
    try:
        found = flow.webhooks()
    except StoreError as exc:
        raise click.ClickException(one_line(exc)) from exc
    finally:
        flow.store.close()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for webhook in found:
        signed = "signed" if webhook["signed"] else "unsigned"
        click.echo(f"{webhook['url']}\t{','.join(webhook['events'])}\t{signed}")
    if not found:
        click.echo("no webhooks", err=True)


@webhooks.command(
    "remove",
    help="Remove the subscription of URL (as registered, or as `list` shows it) and cancel "
    "its pending deliveries. A host module that registers it will register it again.",
)
@click.argument("url")
@dsn_option
@app_option
def remove_webhook(url: str, dsn: str | None, app_spec: str | None) -> None:
    flow = _flow(dsn, app_spec)
    try:
        removed = flow.unsubscribe(url)
    except ValueError as exc:
        raise click.ClickException(one_line(exc)) from exc
    except StoreError as exc:
        raise click.ClickException(one_line(exc)) from exc
    finally:
        flow.store.close()
    if not removed:
        raise click.ClickException(f"no webhook has the URL {url}")
    click.echo(f"removed {shown_url(url)}")
