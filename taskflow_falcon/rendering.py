"""Writing JSON responses eagerly, so that a body that cannot be JSON fails as a clean 500.

Falcon serialises ``resp.media`` after the responder returns, outside the error handlers: a
decorator that put a ``set`` in a case would answer the WSGI server's own non-JSON 500.
Serialising in the responder instead routes such failures through ``errors.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import falcon

from taskflow_core.application.answers import LISTING_OPEN, LISTING_SEPARATOR, listing_close
from taskflow_core.application.listing import Listing
from taskflow_core.domain.wire import encode_json

logger = logging.getLogger(__name__)

# Every JSON answer's type, as express wrote it: a client of the original may match on it.
JSON_TYPE = "application/json; charset=utf-8"


def write_json(resp: falcon.Response, body: Any, status: int | None = None) -> None:
    """Set ``resp`` to ``body`` as JSON; raises TypeError/ValueError if it is not JSON."""
    text = encode_json(body)
    if status is not None:
        resp.status = status
    resp.content_type = JSON_TYPE
    # Encoded here, not by falcon after the responder: a string that is not UTF-8 (a lone
    # surrogate from a decorator) then fails inside the error handling, as a JSON 500.
    resp.data = text.encode()


def write_listing(resp: falcon.Response, listing: Listing) -> None:
    """Answer with a listing: whole when its cases were all read with the page (as any other
    answer), else streamed, each case encoded as it is read.

    The listing's cases come encoded (a decorator's failure to be JSON has happened by now,
    as a JSON 500); a failure while the rest is read can only cut the answer short.
    """
    resp.content_type = JSON_TYPE
    first = LISTING_OPEN + LISTING_SEPARATOR.join(case.encode() for case in listing.first)
    tail = listing_close(listing.count)
    if not listing.deferred:
        resp.data = first + tail
        return
    separator = LISTING_SEPARATOR if listing.first else b""
    # Only the iterator goes with the stream: the cases already encoded are freed when the
    # responder returns.
    resp.stream = _streamed(first, separator, listing.rest, tail)


def _streamed(first: bytes, separator: bytes, rest: Iterator[str], tail: bytes) -> Iterator[bytes]:
    yield first
    del first  # sent: not held while the rest is read
    try:
        for case in rest:
            yield separator + case.encode()
            separator = LISTING_SEPARATOR
    except Exception:
        # The status and the first cases are sent: there is no answer left to give but a
        # short one. The server closes the connection, and the client sees it cut off.
        logger.exception("a listing failed after it began to be sent; its answer is cut short")
        raise
    yield tail
