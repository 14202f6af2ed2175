"""``/openapi.json`` and ``/docs``: the API's own description, and a page that shows it.

``/docs`` is Swagger UI (its npm distribution ``swagger-ui-dist``, vendored in
taskflow_falcon/static/swagger-ui with its licence), served by the app itself: nothing is
fetched from elsewhere, so it works where the service has no way out, and its "Try it out"
sends requests to the server that served the page. Without JavaScript the same page shows the
reference rendered here, as plain HTML.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any

import falcon

from .openapi import openapi_document
from .rendering import write_json

_METHODS = ("get", "post", "put", "patch", "delete")

# What the page may load: only from this server. Swagger UI sets inline styles and shows the
# schema's images as data: URLs; it runs no inline script (docs.js starts it).
_DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

# The files /docs/assets/ serves, and their types; nothing else is reachable through it.
_ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "docs.js": "text/javascript; charset=utf-8",
    "LICENSE": "text/plain; charset=utf-8",
    "NOTICE": "text/plain; charset=utf-8",
}

_STYLE = """
.reference { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem;
  padding: 0 1rem; }
.reference h2 { font-size: 1.05rem; margin: 2rem 0 .3rem; font-family: ui-monospace, monospace; }
.reference .m { display: inline-block; min-width: 4.5rem; font-weight: bold; }
.reference table { border-collapse: collapse; margin: .3rem 0 1rem; }
.reference td, .reference th { border-bottom: 1px solid #ddd; padding: .15rem .6rem;
  text-align: left; }
.reference td { vertical-align: top; }
.reference code { font-family: ui-monospace, monospace; }
"""


class OpenApiResource:
    """``/openapi.json``: the OpenAPI 3.1 document, made once per app."""

    def __init__(self) -> None:
        self.document = openapi_document()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        write_json(resp, self.document)


class DocsResource:
    """``/docs``: Swagger UI on the document, and the plain reference without JavaScript."""

    def __init__(self) -> None:
        self.page = page(openapi_document()).encode()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.env.get("PATH_INFO", "").endswith("/"):
            # The page's links are relative (the app may be mounted under a prefix): from
            # /docs/ they would point one level too deep.
            raise falcon.HTTPMovedPermanently(req.prefix + req.path.rstrip("/"))
        resp.content_type = falcon.MEDIA_HTML
        resp.set_header("Content-Security-Policy", _DOCS_POLICY)
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.data = self.page


class DocsAssetResource:
    """``/docs/assets/{name}``: Swagger UI's vendored files, read once, cached by browsers."""

    def __init__(self) -> None:
        folder = resources.files("taskflow_falcon") / "static" / "swagger-ui"
        self.files = {name: (folder / name).read_bytes() for name in _ASSETS}

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        if name not in self.files:
            raise falcon.HTTPNotFound()
        resp.content_type = _ASSETS[name]
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.cache_control = ["public", "max-age=3600"]
        resp.data = self.files[name]


def page(document: dict[str, Any]) -> str:
    """Swagger UI's shell around the plain reference, which only shows without JavaScript."""
    title = _e(document["info"]["title"])
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{title} API reference</title>"
        '<link rel=stylesheet href="docs/assets/swagger-ui.css">'
        f"<style>{_STYLE}</style></head><body>"
        '<div id="swagger-ui"></div>'
        f'<noscript><div class="reference">{render(document)}</div></noscript>'
        '<script src="docs/assets/swagger-ui-bundle.js"></script>'
        '<script src="docs/assets/docs.js"></script>'
        "</body></html>"
    )


def render(document: dict[str, Any]) -> str:
    """The document as plain HTML: each operation, its parameters and its answers."""
    info = document["info"]
    parts = [
        f"<h1>{_e(info['title'])} {_e(info['version'])}</h1><p>{_e(info['description'])}</p>",
        '<p>The machine-readable form: <a href="openapi.json"><code>openapi.json</code></a>.</p>',
    ]
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method in _METHODS:
            if method in item:
                parts.append(_operation(path, method, item[method], shared))
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
