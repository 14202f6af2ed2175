"""Writing JSON responses eagerly, so that a body that cannot be JSON fails as a clean 500.

Falcon serialises ``resp.media`` after the responder returns, outside the error handlers: a
decorator that put a ``set`` in a case would answer the WSGI server's own non-JSON 500.
Serialising in the responder instead routes such failures through ``errors.py``.
"""

from __future__ import annotations

from typing import Any

import falcon

from taskflow_core.wire import encode_json


def write_json(resp: falcon.Response, body: Any, status: int | None = None) -> None:
    """Set ``resp`` to ``body`` as JSON; raises TypeError/ValueError if it is not JSON."""
    text = encode_json(body)
    if status is not None:
        resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    # Encoded here, not by falcon after the responder: a string that is not UTF-8 (a lone
    # surrogate from a decorator) then fails inside the error handling, as a JSON 500.
    resp.data = text.encode()
