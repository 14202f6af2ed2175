"""How much of an HTTP/1 request must have arrived before a thread can parse it unblocked."""

from __future__ import annotations

from typing import Any

import attrs

# gunicorn's own bounds when its settings ask for none, or for more than it allows.
_MAX_REQUEST_LINE = 8190
_MAX_HEADER_FIELDS = 32768
_MAX_HEADER_FIELD_SIZE = 8190


@attrs.frozen
class ArrivalLimits:
    """The byte counts past which gunicorn's parser refuses a request head, and the largest
    body worth holding in memory until it has all arrived."""

    request_line: int
    head: int
    body: int

    @classmethod
    def from_config(cls, cfg: Any, body: int) -> ArrivalLimits:
        """The limits gunicorn's ``Request`` derives from its settings, computed as it does."""
        line = cfg.limit_request_line
        if line <= 0 or line > _MAX_REQUEST_LINE:
            # 0 means unlimited to gunicorn; past this, the head is its thread's to read.
            line = _MAX_REQUEST_LINE
        fields = cfg.limit_request_fields
        if fields <= 0 or fields > _MAX_HEADER_FIELDS:
            fields = _MAX_HEADER_FIELDS
        field_size = cfg.limit_request_field_size
        if field_size <= 0:
            field_size = _MAX_HEADER_FIELD_SIZE
        # A leading empty line, the request line with its CRLF, then the header block.
        return cls(request_line=line, head=2 + line + 2 + fields * (field_size + 2) + 4, body=body)


def bytes_needed(
    received: bytes | bytearray, limits: ArrivalLimits, searched: int = 0
) -> int | None:
    """How many bytes the request needs in all before it can be parsed without waiting:
    None while its head is incomplete.

    A head gunicorn will refuse (a bare LF, a line or block over its limits) needs nothing
    more: the parser answers the error from what is there. A body is waited for only when
    its ``Content-Length`` is plain and at most ``limits.body``; a chunked body, an
    ``Expect: 100-continue`` (the client waits for our answer before sending), or a larger
    body is left to the thread, which reads it under a deadline.

    ``searched`` is how many leading bytes an earlier call found to be an incomplete head:
    only what came after is searched again, so a head trickled in a byte at a time costs
    its length in all, not its length squared.
    """
    start = max(searched - 3, 0)
    end = received.find(b"\r\n\r\n", start)
    if _has_bare_lf(received, start, len(received) if end < 0 else end + 4):
        return len(received)
    if end >= 0:
        return end + 4 + _body_to_wait_for(received[: end + 4], limits.body)
    line_start = 2 if received.startswith(b"\r\n") else 0
    line_too_long = len(received) - line_start > limits.request_line + 2
    line_end = received.find(b"\r\n", line_start, line_start + limits.request_line + 4)
    if line_too_long and line_end < 0:
        return len(received)
    if len(received) > limits.head:
        return len(received)
    return None


def _has_bare_lf(data: bytes | bytearray, start: int, stop: int) -> bool:
    lf = data.find(b"\n", start, stop)
    while lf >= 0:
        if lf == 0 or data[lf - 1] != ord("\r"):
            return True
        lf = data.find(b"\n", lf + 1, stop)
    return False


def _body_to_wait_for(head: bytes | bytearray, limit: int) -> int:
    length: int | None = None
    for line in bytes(head).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name in (b"transfer-encoding", b"expect"):
            return 0
        if name == b"content-length":
            value = value.strip()
            if length is not None or not value.isdigit() or len(value) > 18:
                # Repeated, malformed or absurd: the parser refuses it (or the app does),
                # and nothing more is worth reading first.
                return 0
            length = int(value)
    if length is None or length > limit:
        return 0
    return length
