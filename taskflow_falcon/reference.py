"""``/openapi.json`` and ``/docs``: the API's own description, and a page that shows it.

The page is rendered here from the document, as plain HTML with a little CSS: no script, and
nothing fetched from elsewhere, so it works where the service has no way out.
"""

from __future__ import annotations

import html
import json
from typing import Any

import falcon

from .openapi import openapi_document
from .rendering import write_json

_METHODS = ("get", "post", "put", "patch", "delete")

_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
h2 { font-size: 1.05rem; margin: 2rem 0 .3rem; font-family: ui-monospace, monospace; }
.m { display: inline-block; min-width: 4.5rem; font-weight: bold; }
table { border-collapse: collapse; margin: .3rem 0 1rem; }
td, th { border-bottom: 1px solid #ddd; padding: .15rem .6rem; text-align: left; }
td { vertical-align: top; }
code { font-family: ui-monospace, monospace; }
"""


class OpenApiResource:
    """``/openapi.json``: the OpenAPI 3.1 document, made once per app."""

    def __init__(self) -> None:
        self.document = openapi_document()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        write_json(resp, self.document)


class DocsResource:
    """``/docs``: the document as a page."""

    def __init__(self) -> None:
        self.page = render(openapi_document()).encode()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.data = self.page


def render(document: dict[str, Any]) -> str:
    info = document["info"]
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{_e(info['title'])} API</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(info['title'])} {_e(info['version'])}</h1><p>{_e(info['description'])}</p>",
        '<p>The machine-readable form: <a href="openapi.json"><code>openapi.json</code></a>.</p>',
    ]
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method in _METHODS:
            if method in item:
                parts.append(_operation(path, method, item[method], shared))
    parts.append("</body></html>")
    return "".join(parts)


def _operation(path: str, method: str, op: dict[str, Any], shared: list[Any]) -> str:
    rows = [
        f"<tr><td><code>{_e(p['name'])}</code></td><td>{_e(p['in'])}</td>"
        f"<td>{_e(p.get('description', ''))}</td></tr>"
        for p in [*shared, *op.get("parameters", [])]
    ]
    body = op.get("requestBody")
    if body:
        types = ", ".join(body["content"])
        schema = json.dumps(next(iter(body["content"].values()))["schema"])
        rows.append(f"<tr><td>body</td><td>{_e(types)}</td><td><code>{_e(schema)}</code></td></tr>")
    answers = "".join(
        f"<tr><td>{_e(code)}</td><td>{_e(answer.get('description', ''))}</td></tr>"
        for code, answer in op["responses"].items()
    )
    return (
        f"<h2><span class=m>{method.upper()}</span> {_e(path)}</h2><p>{_e(op['summary'])}</p>"
        f"<table><tr><th>parameter</th><th>in</th><th></th></tr>{''.join(rows)}</table>"
        f"<table><tr><th>answer</th><th></th></tr>{answers}</table>"
    )


def _e(text: Any) -> str:
    return html.escape(str(text))
