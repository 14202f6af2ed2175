"""``/ui/static/{name}``: the pages' own files (the stylesheet), served by the app itself so
that nothing is fetched from anywhere else."""

from __future__ import annotations

from importlib import resources

import falcon

from .security import protect

TYPES = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


def _load() -> dict[str, bytes]:
    folder = resources.files("taskflow_falcon.ui") / "static"
    files = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in TYPES:
            files[entry.name] = entry.read_bytes()
    return files


class StaticFile:
    def __init__(self) -> None:
        # Read once: a handful of small files, and no path from a request reaches the disk.
        self.files = _load()

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        body = self.files.get(name)
        if body is None:
            raise falcon.HTTPNotFound()
        protect(resp)
        resp.content_type = TYPES["." + name.rpartition(".")[2]]
        resp.data = body
        # Short: a new release's stylesheet reaches browsers within the hour.
        resp.set_header("Cache-Control", "public, max-age=3600")
