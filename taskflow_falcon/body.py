"""Reading a JSON request body: bounded in size, and required to be a JSON object."""

from __future__ import annotations

import json
from typing import Any, Protocol

import falcon

from taskflow_core.domain.validation import MAX_DEPTH, check_storable
from taskflow_core.errors import InvalidRequest

DEFAULT_MAX_BODY_SIZE = 1024 * 1024


def _too_large(limit: int) -> falcon.HTTPContentTooLarge:
    return falcon.HTTPContentTooLarge(
        description=f"Request body is larger than the limit of {limit} bytes"
    )


def _too_slow() -> falcon.HTTPError:
    return falcon.HTTPError(falcon.HTTP_408, description="The request body did not arrive in time")


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; PostgreSQL's jsonb would refuse them later, as a 500.
    raise ValueError(f"{name} is not valid JSON")


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def _read_at_most(stream: _Readable, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_body(req: falcon.Request, limit: int) -> bytes:
    """The raw body, at most ``limit`` bytes; larger answers 413 without reading it all."""
    length = req.content_length
    if length is not None and length > limit:
        # Refuse on the declared length, before a byte of a huge upload is read.
        raise _too_large(limit)
    if length is None:
        # A chunked body has no length; reading to EOF is only safe when the server says
        # it marks the end (gunicorn does), else the read could wait forever.
        if not req.env.get("wsgi.input_terminated"):
            return b""
        stream: _Readable = req.stream
    else:
        stream = req.bounded_stream
    # Read one byte past the limit: enough to know it is too large, never more.
    try:
        data = _read_at_most(stream, limit + 1)
    except TimeoutError:
        # The server bounds how long a body may take to arrive (taskflow serve does): a
        # client's slowness is its own 4xx, not our 500.
        raise _too_slow() from None
    if len(data) > limit:
        raise _too_large(limit)
    return data


def read_json_object(
    req: falcon.Request,
    limit: int,
    *,
    empty: dict[str, Any] | None = None,
    max_depth: int = MAX_DEPTH + 1,
) -> dict[str, Any]:
    """The body as a JSON object; malformed or non-object bodies are 400s, and so is a
    missing one unless ``empty`` says what it stands for. ``max_depth`` bounds its nesting:
    by default one level more than data may have, since a PUT's data sits inside the body."""
    raw = read_body(req, limit)
    if not raw.strip():
        if empty is not None:
            return empty
        raise InvalidRequest("A JSON object is required as the request body", {"body": "required"})
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except ValueError:
        # Bad UTF-8 and bad JSON alike.
        raise InvalidRequest("Request body is not valid JSON", {"body": "invalid"}) from None
    except RecursionError:
        # Nesting far past the limit below: the parser ran out of stack before we could look.
        raise InvalidRequest(
            f"body is nested too deeply (at most {MAX_DEPTH} levels)", {"body": "too deep"}
        ) from None
    if not isinstance(value, dict):
        raise InvalidRequest("Request body must be a JSON object", {"body": "invalid"})
    # The whole body is logged as the event's payload: what no store can keep (NUL, lone
    # surrogates, 1e400 read as infinity) is refused here, wherever in the body it is.
    check_storable(value, "body", max_depth)
    return value


MERGE_PATCH_TYPES = (falcon.MEDIA_JSON, "application/merge-patch+json")


def require_merge_patch(req: falcon.Request) -> None:
    """415 unless the body is declared as JSON or a JSON Merge Patch."""
    declared = (req.content_type or "").split(";", 1)[0].strip().lower()
    if declared not in MERGE_PATCH_TYPES:
        raise falcon.HTTPUnsupportedMediaType(
            description=f"PATCH takes {' or '.join(MERGE_PATCH_TYPES)}"
        )


def require(body: dict[str, Any], key: str) -> Any:
    """``body[key]``; a missing key is a 400 naming it."""
    if key not in body:
        raise InvalidRequest(f"{key} is required", {key: "required"})
    return body[key]
