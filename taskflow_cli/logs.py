"""What ``taskflow serve`` prints besides gunicorn's own lines: the app's log records, in the
same one-line shape, with the logger's name."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.glogging import Logger

from taskflow_falcon.access_log import logger as access_logger

# gunicorn's own line, with the logger's name before the message.
FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"
DATE_FORMAT = "[%Y-%m-%d %H:%M:%S %z]"

# taskflow's loggers: its packages' (``logging.getLogger(__name__)``) and the access log's.
TASKFLOW_LOGGERS = (
    "taskflow",
    "taskflow_cli",
    "taskflow_compose",
    "taskflow_core",
    "taskflow_falcon",
    "taskflow_postgres",
    "taskflow_sqlite",
)


def log_lines() -> None:
    """The long-running commands besides ``serve`` (``relay``, ``timers``): their records on
    stderr in serve's one-line shape, so one log pipeline reads all three."""
    logging.basicConfig(level=logging.INFO, format=FORMAT, datefmt=DATE_FORMAT)


def logconfig(*, access_log: bool, app_spec: str | None) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: INFO records of taskflow's loggers and of the host
    module's package, WARNING records of any other, on stderr beside gunicorn's own lines.

    Only WARNING for the rest: libraries log at INFO what is noise to an operator (the
    PostgreSQL pool logs every connection it hands out).
    """
    at_info = [*TASKFLOW_LOGGERS]
    if app_spec:
        at_info.append(app_spec.partition(":")[0].split(".")[0])
    loggers: dict[str, Any] = {name: {"level": "INFO"} for name in at_info}
    if not access_log:
        loggers[access_logger.name] = {"level": "WARNING"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"format": FORMAT, "datefmt": DATE_FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "WARNING", "handlers": ["stderr"]},
        "loggers": loggers,
    }


class GunicornLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger without its access log: the app writes one line per request itself
    (taskflow_falcon/access_log.py), and the worker for the answers it makes on its own. A
    ``logconfig_dict`` switches gunicorn's access log on, which then built every request's
    fields (a tenth of a read's CPU in a py-spy profile) for a logger that printed nothing."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None
