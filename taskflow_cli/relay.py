"""``taskflow relay``: deliver webhook messages from the change feed, in a process of its own.

Run as many as you like against one database: they share the work, and each message is
sent by one of them (again by another only if the first died while sending it).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click

from taskflow_compose import load_flow
from taskflow_compose.environment import app_spec
from taskflow_core import Taskflow
from taskflow_core.application.feed import waiter_of
from taskflow_core.background.relay import DEFAULT_PER_WEBHOOK, DEFAULT_TIMEOUT, DEFAULT_WORKERS
from taskflow_core.errors import StoreError, one_line

from .database import check_not_misconfigured, name_database
from .loading import load_app
from .logs import log_lines
from .metrics import metrics_port_option, serve_metrics
from .options import dsn_option

logger = logging.getLogger("taskflow.relay")

# Between rounds a relay waits for the feed to change, up to this long: retries that have
# come due are sent within half a second even when nothing new commits, and so is a change
# whose notification came while the relay was busy, or that an older transaction held back
# (taskflow_postgres/changes.py), which no notification announces.
IDLE_WAIT = 0.5
# After the store fails, how long before trying again, doubling up to the longest.
FIRST_OUTAGE_DELAY = 1.0
LONGEST_OUTAGE_DELAY = 30.0


def run(
    flow: Taskflow,
    stop: threading.Event,
    *,
    timeout: float,
    workers: int,
    per_webhook: int = DEFAULT_PER_WEBHOOK,
) -> None:
    """Deliver until ``stop`` is set; an unreachable store is waited out, not fatal. Once
    it is set, sends in flight end within ``timeout`` and nothing new is taken."""
    wait_for_changes = waiter_of(flow.store)
    delay = FIRST_OUTAGE_DELAY
    while not stop.is_set():
        try:
            delivered = flow.deliver_pending(
                timeout=timeout, workers=workers, stop=stop, per_webhook=per_webhook
            )
        except StoreError as exc:
            logger.warning("the store failed (%s); trying again in %gs", one_line(exc), delay)
            stop.wait(delay)
            delay = min(delay * 2, LONGEST_OUTAGE_DELAY)
            continue
        delay = FIRST_OUTAGE_DELAY
        if delivered:
            logger.info("delivered %d webhook message%s", delivered, "" if delivered == 1 else "s")
        elif not stop.is_set():
            wait_for_changes(IDLE_WAIT)


@click.command(help="Deliver webhook messages from the change feed (run one or more).")
@dsn_option
@click.option(
    "--app",
    "app",
    metavar="MODULE:ATTR",
    help="A host module's configured Taskflow: its flow.webhook() registrations are saved "
    "first. Default: a plain flow, delivering to the webhooks the database holds."
    " [env: TASKFLOW_APP]",
)
@click.option(
    "--timeout",
    default=DEFAULT_TIMEOUT,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="How long one POST may take, all of it (connecting, sending, the answer), before "
    "it counts as failed (and is retried). SIGTERM ends the relay within this long.",
)
@click.option(
    "--workers",
    default=DEFAULT_WORKERS,
    show_default=True,
    type=click.IntRange(min=1),
    help="POSTs in flight at once.",
)
@click.option(
    "--per-webhook",
    default=DEFAULT_PER_WEBHOOK,
    show_default=True,
    type=click.IntRange(min=1),
    help="POSTs in flight at once to one URL: a receiver that hangs holds only these.",
)
@metrics_port_option
def relay(
    dsn: str | None,
    app: str | None,
    timeout: float,
    workers: int,
    per_webhook: int,
    metrics_host: str,
    metrics_port: int | None,
) -> None:
    url = name_database(dsn)
    spec = app or app_spec()
    flow = load_app(spec, lambda: load_flow(spec, url, existing=True))
    try:
        check_not_misconfigured(flow.store)
    except click.ClickException:
        flow.store.close()
        raise
    log_lines()
    stop = threading.Event()

    def stop_soon(signum: int, frame: FrameType | None) -> None:
        # Sends in flight end within --timeout (it bounds each as a whole) and are recorded;
        # nothing new is claimed.
        logger.info("stopping")
        stop.set()

    signal.signal(signal.SIGTERM, stop_soon)
    signal.signal(signal.SIGINT, stop_soon)
    serve_metrics(flow, metrics_host, metrics_port)
    logger.info("relay delivering webhooks from %r", flow.store)
    try:
        run(flow, stop, timeout=timeout, workers=workers, per_webhook=per_webhook)
    finally:
        flow.store.close()
