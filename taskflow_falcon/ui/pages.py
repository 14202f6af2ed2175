"""Rendering a page: one Jinja2 environment, autoescaping everything, and the answer's
headers.

Every value reaches the HTML through Jinja's escaping (autoescape is on for every template,
whatever its name); nothing is marked safe but what our own code built from escaped parts
(the workflow's SVG, diagram.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import falcon
import jinja2

from .security import protect

PREFIX = "/ui"
HTML_TYPE = "text/html; charset=utf-8"


def when(value: Any) -> str:
    """An ISO timestamp as a person reads it (UTC, to the minute); anything else as it is."""
    if not isinstance(value, str):
        return "" if value is None else str(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def kind(value: Any) -> str:
    """What a data value is, for the template that draws it (data.html)."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            return "rows"
        return "list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "scalar"


def columns(rows: list[dict[str, Any]]) -> list[str]:
    """The keys of a list of objects, in the order first met: a table's columns."""
    return list(dict.fromkeys(key for row in rows for key in row))


ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("taskflow_falcon.ui", "templates"),
    # On for every template, not only those named .html: nothing gets out unescaped.
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters["when"] = when
ENVIRONMENT.globals.update(kind=kind, columns=columns, prefix=PREFIX)


def render(template: str, **context: Any) -> str:
    return ENVIRONMENT.get_template(template).render(**context)


def write_page(resp: falcon.Response, html: str, status: int = 200) -> None:
    """Answer with a page: the HTML, its status and the security headers."""
    protect(resp)
    resp.status = falcon.code_to_http_status(status)
    resp.content_type = HTML_TYPE
    resp.text = html


def see_other(resp: falcon.Response, location: str) -> None:
    """After a form's success: 303 to the page to show (POST-redirect-GET), so reloading
    it does not post again."""
    protect(resp)
    resp.status = falcon.HTTP_303
    resp.location = location
    resp.content_type = HTML_TYPE
    resp.text = ""
