"""``taskflow timers``: fire due timers, on its own, until stopped."""

from __future__ import annotations

import signal
from types import FrameType

import click

from taskflow_compose import load_flow
from taskflow_compose.environment import app_spec as app_spec_from_env
from taskflow_core.background.sweeper import DEFAULT_INTERVAL, Sweeper

from .database import check_answers, name_database
from .loading import load_app
from .logs import log_lines
from .metrics import metrics_port_option, serve_metrics
from .options import dsn_option


@click.command(
    help="Fire due timers until stopped (SIGTERM or Ctrl-C). Any number may run against one "
    "database, beside `taskflow serve` or instead of its own sweeping (--no-timers)."
)
@dsn_option
@click.option(
    "--app",
    "app_spec",
    metavar="MODULE:ATTR",
    help="A host module's configured Taskflow, whose hooks the timers fire. [env: TASKFLOW_APP]",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=DEFAULT_INTERVAL,
    show_default=True,
    help="Seconds between sweeps.",
)
@click.option("--once", is_flag=True, help="Sweep once, say how many fired, and exit.")
@metrics_port_option
def timers(
    dsn: str | None,
    app_spec: str | None,
    interval: float,
    once: bool,
    metrics_host: str,
    metrics_port: int | None,
) -> None:
    url = name_database(dsn)
    spec = app_spec or app_spec_from_env()
    flow = load_app(spec, lambda: load_flow(spec, url, existing=True))
    # A database that is not there or not migrated is one line and exit 1 now, not a
    # sweeper logging the same failure forever (or "fired 0" and exit 0).
    try:
        check_answers(flow.store)
    except click.ClickException:
        flow.store.close()
        raise
    sweeper = Sweeper(flow, interval)
    if once:
        try:
            click.echo(f"fired {sweeper.sweep_once()} timer(s)")
        finally:
            flow.store.close()
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        sweeper.stop(timeout=0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log_lines()
    serve_metrics(flow, metrics_host, metrics_port)
    click.echo(f"firing due timers every {interval:g}s; stop with SIGTERM or Ctrl-C", err=True)
    sweeper.run()
