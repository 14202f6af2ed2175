"""The answers gunicorn itself gives to requests it cannot parse, as JSON like the app's."""

from __future__ import annotations

import json
import ssl
from http import HTTPStatus

from gunicorn.http.errors import (
    ChunkMissingTerminator,
    ExpectationFailed,
    ForbiddenProxyRequest,
    InvalidChunkExtension,
    InvalidChunkSize,
    InvalidHeader,
    InvalidHeaderName,
    InvalidHTTPVersion,
    InvalidProxyHeader,
    InvalidProxyLine,
    InvalidRequestLine,
    InvalidRequestMethod,
    InvalidResponseHeader,
    InvalidResponseHeaderName,
    LimitRequestHeaders,
    LimitRequestLine,
    ObsoleteFolding,
    ParseException,
    UnsupportedTransferCoding,
)

# The first matching class answers; the statuses are gunicorn's own. The messages are fixed
# rather than gunicorn's, which quote the offending bytes back (up to a whole request line).
_CLIENT_ERRORS: tuple[
    tuple[type[BaseException] | tuple[type[BaseException], ...], int, str], ...
] = (
    (LimitRequestLine, 414, "The request line is too long"),
    (LimitRequestHeaders, 431, "The request's header fields are too many or too large"),
    (ExpectationFailed, 417, "The only expectation understood is 100-continue"),
    (UnsupportedTransferCoding, 501, "The request's transfer coding is not supported"),
    (ForbiddenProxyRequest, 403, "A PROXY protocol header is not accepted from this address"),
    (InvalidRequestLine, 400, "Malformed request line"),
    (InvalidRequestMethod, 400, "Malformed request method"),
    (InvalidHTTPVersion, 400, "Unsupported HTTP version"),
    ((InvalidHeader, InvalidHeaderName, ObsoleteFolding), 400, "Malformed header field"),
    ((InvalidChunkSize, ChunkMissingTerminator, InvalidChunkExtension), 400, "Malformed chunk"),
    ((InvalidProxyLine, InvalidProxyHeader), 400, "Malformed PROXY protocol header"),
    (ParseException, 400, "Malformed request"),
    (ssl.SSLError, 400, "TLS error"),
)


def client_error(exc: BaseException) -> tuple[int, str] | None:
    """The status and message answering ``exc`` when the client is at fault, else None."""
    if isinstance(exc, (InvalidResponseHeader, InvalidResponseHeaderName)):
        # A header the application tried to send: our fault, whatever the class it shares.
        return None
    for kind, status, message in _CLIENT_ERRORS:
        if isinstance(exc, kind):
            return status, message
    return None


def json_error_response(status: int, message: str) -> bytes:
    """A whole HTTP/1.1 response with the body ``{"message": ...}``, closing the connection
    (after an unparsable request, where the next one would start is unknown)."""
    body = json.dumps({"message": message}).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"  # as taskflow_falcon/rendering.py
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body
