"""Reading ``GET /_export?format=ndjson`` as it streams: one case per line (SPEC §18)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx

from .errors import RequestTimeout, TransportError, UnexpectedResponse, excerpt
from .transport import Transport


def export(http: Transport, params: Sequence[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    """Each case of the export, parsed as its line arrives; the whole export is never held.
    Not retried once it has begun: a second stream would repeat the cases already given."""
    where = "GET /_export"
    query = urlencode([("format", "ndjson"), *params])
    try:
        with http.http.stream("GET", f"/_export?{query}") as response:
            if response.status_code != 200:
                response.read()
                # The error (or what is not taskflow's) as any call's (transport.py).
                http.answer(response, where)
                raise UnexpectedResponse(f"{where} answered {response.status_code}")
            for line in response.iter_lines():
                if not line.strip():
                    continue
                try:
                    case: dict[str, Any] = json.loads(line)
                except ValueError:
                    raise UnexpectedResponse(
                        f"{where} sent a line that is not JSON: {excerpt(line)}"
                    ) from None
                yield case
    except httpx.TimeoutException:
        raise RequestTimeout(f"{where}: no data within {http.timeout:g} s") from None
    except httpx.TransportError as error:
        raise TransportError(f"{where}: the stream broke ({error})") from None
