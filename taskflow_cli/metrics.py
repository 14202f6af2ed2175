"""The metrics of the command line's processes: ``taskflow serve``'s directory for the
workers' counters (prometheus_client's multiprocess mode), and the ``--metrics-port`` that
``taskflow relay`` and ``taskflow timers`` answer ``/metrics`` on."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any, TypeVar

import click
from prometheus_client import start_http_server
from prometheus_client.multiprocess import mark_process_dead

from taskflow_core import Taskflow
from taskflow_falcon.metrics import MULTIPROCESS_ENV, exposition

F = TypeVar("F", bound=Callable[..., Any])


def metrics_port_option(fn: F) -> F:
    return click.option(
        "--metrics-port",
        type=click.IntRange(0, 65535),
        default=None,
        help="Answer GET /metrics (Prometheus) on this port, on --metrics-host. "
        "[default: no metrics]",
    )(
        click.option(
            "--metrics-host",
            default="127.0.0.1",
            show_default=True,
            help="The address --metrics-port listens on.",
        )(fn)
    )


def serve_metrics(flow: Taskflow, host: str, port: int | None) -> None:
    """With a port, answer ``/metrics`` for ``flow`` on it, from a thread of this process
    (prometheus_client's own server); its counters count ``flow``'s work from now on."""
    if port is None:
        return
    start_http_server(port, host, registry=exposition(flow))
    click.echo(f"metrics on http://{host}:{port}/metrics", err=True)


class WorkerMetricsDirectory:
    """``taskflow serve``: the directory the workers write their counters to, made before
    they fork (unless the operator names one in ``PROMETHEUS_MULTIPROC_DIR``, kept as it
    is) and removed when the server stops."""

    def __init__(self) -> None:
        given = os.environ.get(MULTIPROCESS_ENV)
        self.made = not given
        self.path = given or tempfile.mkdtemp(prefix="taskflow-metrics-")
        os.environ[MULTIPROCESS_ENV] = self.path

    def close(self) -> None:
        if self.made:
            shutil.rmtree(self.path, ignore_errors=True)
            os.environ.pop(MULTIPROCESS_ENV, None)


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn's hook when a worker has exited: its live gauges are dropped (its counters
    stay, summed into every scrape, so no counter goes back)."""
    mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
