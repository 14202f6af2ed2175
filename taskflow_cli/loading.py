"""Loading a host's ``--app`` for a command, its failures told in one line."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import TypeVar

import click

from taskflow_core.errors import one_line

T = TypeVar("T")


def load_app(app_spec: str | None, load: Callable[[], T]) -> T:
    """``load()``, which imports and builds the host's app ``app_spec`` names (or a plain
    flow when it is None), with the working directory importable as under gunicorn's own
    command.

    Whatever the host module raises (a syntax error, an import or a hook that fails, a
    name it lacks) is one line naming the module and the error, and exit status 1: the
    traceback of a module that cannot even be imported says no more than that line.
    """
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return load()
    except Exception as exc:
        if app_spec is None and not isinstance(exc, ValueError):
            raise  # not the host's: taskflow's own bug, whose traceback is wanted
        raise click.ClickException(cannot_load(app_spec, exc)) from exc


def cannot_load(app_spec: str | None, exc: Exception) -> str:
    """``cannot load the app myapp.workflow:flow: RuntimeError: boom (myapp/workflow.py,
    line 3)``; without an app, the reason alone (a database URL taskflow cannot use)."""
    if app_spec is None:
        return one_line(exc)
    where = _location(exc, app_spec.partition(":")[0].split(".")[0])
    return f"cannot load the app {app_spec}: {type(exc).__name__}: {one_line(exc)}{where}"


def _location(exc: Exception, package: str) -> str:
    """The host's line that raised ``exc``, or called what raised it: the deepest frame of
    its package's code. Nothing when the host's code never ran (no such module)."""
    if isinstance(exc, SyntaxError):
        return ""  # its message already names the file and line
    found = ""
    for frame, line in traceback.walk_tb(exc.__traceback__):
        module = str(frame.f_globals.get("__name__", ""))
        if module == package or module.startswith(f"{package}."):
            found = f" ({_shown(frame.f_code.co_filename)}, line {line})"
    return found


def _shown(path: str) -> str:
    relative = os.path.relpath(path)
    return path if relative.startswith(os.pardir) else relative
