"""Conditional requests and idempotency keys: the headers that carry them, read and written.

A case's ETag is its version, strong: ``"3"``. ``If-Match`` makes a mutation conditional on
the version the client last saw (412 unless it is current); ``If-None-Match`` lets ``GET
/{id}`` answer 304 when the client's copy is current. ``Idempotency-Key`` makes a mutation
safe to send again: the service stores its answer and replays it (docs/retries.md).
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import falcon

from taskflow_core.application.case_body import CaseBody
from taskflow_core.application.commands import Outcome
from taskflow_core.application.idempotency import check_idempotency_key, fingerprint

from .rendering import JSON_TYPE

IDEMPOTENCY_KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"

# One element of an entity-tag list (RFC 9110): optional whitespace, an optional tag, then a
# comma or the end. Empty elements are allowed, as the list syntax says; a tag's characters
# include the comma, so the list cannot simply be split on commas. Header values arrive as
# latin-1 text, so obs-text is \x80-\xff.
_ELEMENT = re.compile(r'[ \t]*(?:(W/)?"([\x21\x23-\x7e\x80-\xff]*)")?[ \t]*(?:,|\Z)')
# A version is a positive bigint: at most 19 digits. A longer tag is no version of ours (and
# int() refuses more than 4,300 digits), so it matches nothing: 412, never a 500.
_VERSION = re.compile(r"[1-9][0-9]{0,18}")
# No list of tags a client means is this long (gunicorn refuses longer header fields too).
MAX_TAGS_LENGTH = 8192


def etag(version: int) -> str:
    return f'"{version}"'


def _entity_tags(req: falcon.Request, header: str) -> list[tuple[bool, str]] | None:
    """The header's tags as (weak, opaque) pairs; None when absent or ``*`` (any). A value
    that is no list of entity tags is a 400: guessing what it meant could overwrite a case."""
    value = req.get_header(header)
    if value is None:
        return None
    if len(value) > MAX_TAGS_LENGTH:
        raise falcon.HTTPBadRequest(
            description=f"{header} is longer than {MAX_TAGS_LENGTH} characters"
        )
    text = value.strip(" \t")
    if text == "*":
        return None
    tags: list[tuple[bool, str]] = []
    position = 0
    while position < len(text):
        element = _ELEMENT.match(text, position)
        if element is None or element.end() == position:
            tags = []
            break
        if element.group(2) is not None:
            tags.append((element.group(1) is not None, element.group(2)))
        position = element.end()
    if not tags:
        raise falcon.HTTPBadRequest(
            description=f'{header} must be "*" or a list of entity tags, such as "3"'
        )
    return tags


def if_match(req: falcon.Request) -> frozenset[int] | None:
    """The versions a mutation may apply to, or None (no condition: absent, or ``*``).

    Strong comparison, as If-Match requires: a weak tag, or one that is no version, matches
    nothing, so a list of only those always fails (412), never passes unchecked.
    """
    tags = _entity_tags(req, "If-Match")
    if tags is None:
        return None
    return frozenset(
        int(opaque) for weak, opaque in tags if not weak and _VERSION.fullmatch(opaque)
    )


def not_modified(req: falcon.Request, version: int | None) -> bool:
    """Whether ``If-None-Match`` names the version the client would get (weak comparison)."""
    if req.get_header("If-None-Match") is None:
        return False
    tags = _entity_tags(req, "If-None-Match")
    if tags is None:
        return True  # "*": the case exists, and the client has it
    return version is not None and any(opaque == str(version) for _, opaque in tags)


def weak_etag(body: bytes) -> str:
    """The ETag express gave every answer: weak, of the body's length (hex) and SHA-1."""
    digest = hashlib.sha1(body, usedforsecurity=False).digest()
    return f'W/"{len(body):x}-{base64.b64encode(digest).decode()[:27]}"'


def tag_listing(req: falcon.Request, resp: falcon.Response) -> None:
    """A listing held whole gets the weak ETag of its body, and is a 304 without the body
    when ``If-None-Match`` names it (weak comparison), as express answered every GET. A
    streamed one has no body to hash before it is sent, and goes without."""
    body = resp.data
    if body is None:
        return
    tag = weak_etag(body)
    resp.set_header("ETag", tag)
    if req.get_header("If-None-Match") is None:
        return
    tags = _entity_tags(req, "If-None-Match")
    if tags is None or any(opaque == tag[3:-1] for _, opaque in tags):
        resp.status = falcon.HTTP_304
        resp.data = None
        resp.content_type = None  # no content, so no type (RFC 9110; wsgiref checks it)


def idempotency_key(req: falcon.Request) -> str | None:
    value = req.get_header(IDEMPOTENCY_KEY)
    return None if value is None else check_idempotency_key(value, IDEMPOTENCY_KEY)


def request_fingerprint(req: falcon.Request, body: Any) -> str:
    """What identifies a request under its key: method, path (with its query, which can
    change what a request does) and the body as parsed, so spacing and key order do not
    count."""
    return fingerprint(
        {"method": req.method, "path": req.path, "query": req.query_string, "body": body}
    )


def write_case(resp: falcon.Response, outcome: Outcome, body: bytes) -> None:
    """Answer with one case: its body, its ETag, and whether it is a replay."""
    if outcome.version is not None:
        resp.set_header("ETag", etag(outcome.version))
    if outcome.replayed:
        resp.set_header(REPLAYED, "true")
    resp.status = outcome.status
    resp.content_type = JSON_TYPE
    resp.data = body


def write_case_body(resp: falcon.Response, body: CaseBody) -> None:
    """Answer with a case read for ``GET /{id}``: whole, or streamed as it is read (the
    WSGI server closes it once sent, ending its read)."""
    resp.content_type = JSON_TYPE
    if body.whole is not None:
        resp.data = body.whole
    else:
        resp.stream = body
