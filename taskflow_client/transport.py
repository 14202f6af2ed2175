"""One remote call: send it, retry it when that is safe, and read the answer or raise.

A retry is safe for a read, and for a write sent with an ``Idempotency-Key`` (the server
replays the first answer to the same request under the same key, docs/retries.md); a write
without one is never sent twice. What is retried: no connection, a connection broken before
the answer (the request may have been carried out: the key makes that harmless), no answer
within the timeout, 502/503/504, and a 409 marked as the same key still running.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import attrs
import httpx

from taskflow_core.errors import RequestInFlight, TaskflowError

from .errors import (
    RequestTimeout,
    TransportError,
    UnexpectedResponse,
    error_for,
    excerpt,
)

logger = logging.getLogger(__name__)

# A gateway's "try again": the request may not have reached taskflow, or the store was away.
RETRY_STATUSES = frozenset({502, 503, 504})
JSON = "application/json"


@attrs.frozen
class Backoff:
    """Exponential with jitter: the n-th wait is between half and all of ``first * 2**n``,
    at most ``longest``, so clients that failed together do not retry together."""

    first: float = 0.25
    longest: float = 5.0

    def delay(self, attempt: int, at_least: float = 0.0) -> float:
        ceiling = min(self.longest, self.first * 2.0**attempt)
        return min(self.longest, max(at_least, ceiling / 2 + random.uniform(0, ceiling / 2)))


@attrs.frozen
class Answer:
    status: int
    headers: httpx.Headers
    body: Any


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else 0.0


def _broken(error: httpx.TransportError) -> str:
    if isinstance(error, httpx.ConnectError):
        return f"could not connect ({error})"
    if isinstance(error, httpx.RemoteProtocolError):
        return f"the connection closed before the whole answer arrived ({error})"
    return f"the connection failed ({type(error).__name__}: {error})"


class Transport:
    """Calls to one server over one ``httpx.Client`` (kept alive between calls)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None,
        timeout: float,
        retries: int,
        headers: Mapping[str, str] | None,
        transport: httpx.BaseTransport | None,
        backoff: Backoff,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        sent = {"Accept": JSON, **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        # Redirects are not followed: one to another host would take the token with it, and
        # taskflow never redirects, so one means base_url is wrong (UnexpectedResponse).
        self._base = base_url.rstrip("/")
        self.http = httpx.Client(
            base_url=base_url,
            headers=sent,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self.http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        body: Any = None,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str = JSON,
        wait: float = 0.0,
    ) -> Answer:
        """Send ``method path`` (``body`` as JSON when not None), retrying when safe; the
        answer's parsed JSON body, or the error it means raised. ``wait``: seconds the
        server may hold the request (a long poll), added to the timeout."""
        sent: dict[str, str] = dict(headers) if headers else {}
        content: bytes | None = None
        if body is not None:
            content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            sent["Content-Type"] = content_type
        if key is not None:
            sent["Idempotency-Key"] = key
        # A write goes again only under its key: without one, a second send may do it twice.
        may_retry = method in ("GET", "HEAD") or key is not None
        timeout = self.timeout + wait
        # Encoded here: the pairs are in order already, and httpx's own merging costs more.
        target = f"{path}?{urlencode(params)}" if params else path
        where = f"{method} {self._base}{target}"
        attempt = 0
        while True:
            failure: TaskflowError
            at_least = 0.0
            try:
                response = self.http.request(
                    method, target, content=content, headers=sent, timeout=timeout
                )
            except httpx.TimeoutException:
                failure = RequestTimeout(f"{where}: no answer within {timeout:g} s")
            except httpx.TransportError as error:
                failure = TransportError(f"{where}: {_broken(error)}")
            else:
                try:
                    return self.answer(response, where)
                except TaskflowError as error:
                    transient = response.status_code in RETRY_STATUSES or (
                        isinstance(error, RequestInFlight) and key is not None
                    )
                    if not transient:
                        raise
                    failure, at_least = error, _retry_after(response)
            if not may_retry or attempt >= self.retries:
                if attempt:
                    failure.message = f"{failure.message} (after {attempt + 1} attempts)"
                    failure.args = (failure.message,)
                raise failure
            delay = self.backoff.delay(attempt, at_least)
            logger.info("%s; retrying in %.2f s", failure.message, delay)
            self._sleep(delay)
            attempt += 1

    def answer(self, response: httpx.Response, where: str) -> Answer:
        status = response.status_code
        if 300 <= status < 400:
            location = response.headers.get("Location", "nowhere")
            raise UnexpectedResponse(
                f"{where} answered {status}, a redirect to {location}: redirects are not "
                "followed (check the client's base_url)",
                status=status,
            )
        content_type = response.headers.get("Content-Type", "")
        if not content_type.startswith(JSON):
            shown = content_type or "no content type"
            raise UnexpectedResponse(
                f"{where} answered {status} with {shown}, not JSON: {excerpt(response.text)}",
                status=status,
            )
        try:
            body = json.loads(response.content)
        except ValueError:
            raise UnexpectedResponse(
                f"{where} answered {status} with malformed or truncated JSON: "
                f"{excerpt(response.text)}",
                status=status,
            ) from None
        if status >= 400:
            raise error_for(status, body, where)
        return Answer(status, response.headers, body)
