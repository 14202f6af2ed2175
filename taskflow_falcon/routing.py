"""Routes answered as the original's express answered them: ``HEAD`` as ``GET`` without a
body, ``OPTIONS`` with 200 and ``Allow``, and a path of empty segments (``//``) unknown.

A client switching from the original may rely on each (SPEC §3, "Details a client of the
original can see").
"""

from __future__ import annotations

from typing import Any

import falcon
import falcon.routing

from .rendering import write_json


def add_route(
    app: falcon.App[falcon.Request, falcon.Response], path: str, resource: object
) -> None:
    """``app.add_route``, with ``HEAD`` where there is ``GET`` and the ``OPTIONS`` answer.

    Both are set on the resource before falcon maps its methods, so the ``Allow`` of a 405
    names the same methods as that of ``OPTIONS``.
    """
    get = getattr(resource, "on_get", None)
    if get is not None and not hasattr(resource, "on_head"):
        # Falcon sends no body for HEAD, and keeps the Content-Length GET's body would have.
        setattr(resource, "on_head", get)  # noqa: B010 (mypy: object has no attribute)
    methods = set(falcon.routing.map_http_methods(resource)) | {"OPTIONS"}
    setattr(resource, "on_options", _options(sorted(methods)))  # noqa: B010
    app.add_route(path, resource)


def _options(methods: list[str]) -> Any:
    allow = ", ".join(methods)

    def on_options(req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        # 200 as express; the body is JSON, as every answer's, and says what Allow says.
        resp.set_header("Allow", allow)
        write_json(resp, {"data": methods})

    return on_options


class EmptySegments:
    """Middleware: ``GET //`` is 404, as express's router found no route for it. Falcon
    strips one trailing slash, which would make ``//`` the listing at ``/``."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        path = req.env.get("PATH_INFO") or "/"
        if len(path) > 1 and not path.strip("/"):
            raise falcon.HTTPNotFound()
