"""``POST /_bulk`` and ``GET /_export``: acting on many cases, and taking them out (SPEC §18,
docs/bulk.md)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import falcon

from taskflow_core import Taskflow
from taskflow_core.application import export
from taskflow_core.application.bulk_request import BulkRequest
from taskflow_core.domain.clock import utc

from .body import read_json_object
from .conditions import REPLAYED, idempotency_key, request_fingerprint
from .listing import list_query_from_string
from .rendering import JSON_TYPE, write_json
from .resources import _Resource, user_of

logger = logging.getLogger(__name__)
# About how much text is sent at once: a write (and a chunk header) per case would cost the
# server more than the case.
CHUNK = 64 * 1024


class BulkResource(_Resource):
    """``/_bulk``: one action on many cases, each in a transaction of its own; the answer
    has a row per case with the status its own route would have answered."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_json_object(req, self.max_body_size)
        key = idempotency_key(req)
        outcome = self.flow.run_bulk(
            BulkRequest.from_json(body),
            user=user_of(req),
            idempotency_key=key,
            fingerprint=None if key is None else request_fingerprint(req, body),
        )
        if outcome.body is None:
            write_json(resp, outcome.answer)
            return
        # Kept under the key: sent as stored, so a replay is the very same bytes.
        if outcome.replayed:
            resp.set_header(REPLAYED, "true")
        resp.content_type = JSON_TYPE
        resp.data = outcome.body


class ExportResource(_Resource):
    """``/_export?format=ndjson|csv``, with the listing's filters: every matching case,
    streamed as it is read."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = list_query_from_string(req.query_string)
        fmt = export.check_format(query.pop("format", None))
        stream_export(resp, self.flow, query, fmt, user_of(req))


def stream_export(
    resp: falcon.Response, flow: Taskflow, query: dict[str, Any], fmt: str, user: Any
) -> None:
    """Answer with every case ``query`` matches for ``user``, as ``fmt`` (ndjson or csv),
    streamed as it is read; the case browser's export links answer the same way."""
    # Checked now (a bad filter is a 400), read as the answer is sent.
    if fmt == "ndjson":
        lines = export.ndjson_lines(flow.export_json(query, user=user))
    else:
        lines = export.csv_lines(flow.export(query, user=user))
    moment = utc(flow.clock()).strftime("%Y%m%dT%H%M%SZ")
    resp.content_type = export.MEDIA_TYPES[fmt]
    resp.set_header("Content-Disposition", f'attachment; filename="cases-{moment}.{fmt}"')
    resp.stream = _encoded(lines)


def _encoded(lines: Iterator[str]) -> Iterator[bytes]:
    """The lines as bytes, about ``CHUNK`` at a time."""
    chunk: list[str] = []
    size = 0
    try:
        for line in lines:
            chunk.append(line)
            size += len(line)
            if size >= CHUNK:
                yield "".join(chunk).encode()
                chunk, size = [], 0
    except Exception:
        # The status and the first cases are sent: the answer can only be cut short, and
        # the client sees it end without its last line.
        logger.exception("an export failed after it began to be sent; its answer is cut short")
        raise
    if chunk:
        yield "".join(chunk).encode()
