"""``Client``: the operations of ``Taskflow`` over HTTP, under the same names, arguments and
answers, so host code moves between an in-process flow and a remote one (SPEC §19).

Differences the transport makes (docs/client.md): who acts is whoever the server's
authentication makes of ``token``, so no method takes ``user``; ``payload`` is the body sent,
so where the route's body is the operation's own value (``create``, ``merge_patch``) there is
none to give; ``changes`` follows the feed forever (``changes_page`` is ``Taskflow.changes``).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from taskflow_core import BusinessDays, Outcome

from .export import export
from .feed import follow
from .query import query_pairs
from .transport import Backoff, Transport

MERGE_PATCH = "application/merge-patch+json"
DEFAULT_WAIT = 30
DEFAULT_LIMIT = 100


def _id(value: str) -> str:
    # Quoted whole: an id from elsewhere ("../x", "a/b") must name one path segment, or none.
    return quote(str(value), safe="")


def _version(expected_version: int | None) -> dict[str, str] | None:
    return None if expected_version is None else {"If-Match": f'"{expected_version}"'}


def _key(idempotency_key: str | None) -> str:
    # Made once per call, so that every retry of the call is the same request to the server.
    return idempotency_key if idempotency_key is not None else str(uuid.uuid4())


def _body(payload: Any, **fields: Any) -> dict[str, Any]:
    """The request's body: the caller's ``payload`` (a mapping: what the event's payload
    will be) with the operation's fields over it."""
    if payload is None:
        return fields
    if not isinstance(payload, Mapping):
        raise TypeError("over HTTP a payload is the request body: a mapping")
    return {**payload, **fields}


def _span(by: BusinessDays | timedelta) -> dict[str, float | int]:
    if isinstance(by, BusinessDays):
        return {"businessDays": by.n}
    if isinstance(by, timedelta):
        return {"days": by / timedelta(days=1)}
    raise TypeError("by is a timedelta or BusinessDays")


class Client:
    """A taskflow server at ``base_url``: every operation of ``Taskflow`` that has a route.

    ``token`` is sent as ``Authorization: Bearer``; ``timeout`` bounds each attempt (seconds);
    ``retries`` is how many times a call is sent again after a failure that retrying can
    mend (a read, or a write under its ``Idempotency-Key``: every write has one); ``headers``
    go with every request; ``transport`` is httpx's (``httpx.WSGITransport(app=...)`` calls
    an app in process). Raises the ``taskflow_core`` errors the flow raises for the same
    request, and ``taskflow_client.errors``' for what only a remote call meets. Thread-safe,
    as its httpx client is; ``close()`` (or ``with``) releases its connections.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = 10,
        retries: int = 3,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self._http = Transport(
            base_url,
            token=token,
            timeout=timeout,
            retries=retries,
            headers=headers,
            transport=transport,
            backoff=backoff or Backoff(),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------

    def get(self, case_id: str) -> dict[str, Any]:
        """The case with its activity log, as ``GET /{id}`` shows it."""
        return self.read(case_id).case

    def read(self, case_id: str) -> Outcome:
        """``get``, with the case's version (its ETag) beside it."""
        answer = self._http.call("GET", f"/{_id(case_id)}")
        tag = answer.headers.get("ETag", "").strip('"')
        return Outcome(answer.body["data"], int(tag) if tag.isdigit() else None)

    def list(self, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``{"data": [case], "meta": {"count": n}}`` for the listing ``query`` asks for."""
        body: dict[str, Any] = self._http.call("GET", "/", params=query_pairs(query)).body
        return body

    def next_statuses(self, case_id: str) -> builtins.list[str]:
        """The statuses the caller may move the case to: the case's ``nextStatuses`` (there
        is no route of its own), empty when no workflow is declared."""
        statuses: builtins.list[str] = self.get(case_id).get("nextStatuses", [])
        return statuses

    def timers(self, case_id: str) -> builtins.list[dict[str, Any]]:
        """The case's pending timers, soonest first: ``[{"name", "due"}]``."""
        return self._data("GET", f"/{_id(case_id)}/timers")  # type: ignore[no-any-return]

    def workflow(self) -> dict[str, Any]:
        """The declared workflow: ``{"statuses", "transitions"}``."""
        return self._data("GET", "/_workflow")  # type: ignore[no-any-return]

    def views(self) -> builtins.list[dict[str, Any]]:
        """``[{"name", "title", "count"}]`` for the caller."""
        return self._data("GET", "/_views")  # type: ignore[no-any-return]

    def counts(self, by: str, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The cases ``query`` selects counted by ``status`` or ``assignedTo``."""
        params = [("by", str(by)), *query_pairs(query)]
        body: dict[str, Any] = self._http.call("GET", "/_counts", params=params).body
        return body

    def changes_page(
        self, after: str | None = None, limit: int = DEFAULT_LIMIT, *, wait: float = 0
    ) -> dict[str, Any]:
        """One page of the change feed, as ``Taskflow.changes`` answers it."""
        return self._feed_page(after, limit, wait)[0]

    def changes(
        self, after: str | None = None, wait: float = DEFAULT_WAIT
    ) -> Iterator[dict[str, Any]]:
        """Every feed item after the cursor ``after``, in commit order, forever: long polls
        of ``wait`` seconds; after a failure that may pass (no connection, a 5xx, an answer
        that is no taskflow answer), the same cursor again with bounded backoff. An error
        of the request (a cursor the feed never gave, the feed off: 403) is raised."""
        return follow(self._feed_page, after, wait, self._http.backoff)

    def _feed_page(
        self, after: str | None, limit: int, wait: float
    ) -> tuple[dict[str, Any], float]:
        params = [("limit", str(limit))]
        if after is not None:
            params.append(("after", after))
        if wait:
            params.append(("wait", f"{wait:g}"))
        answer = self._http.call("GET", "/_changes", params=params, wait=wait)
        retry_after = answer.headers.get("Retry-After", "")
        return answer.body, float(retry_after) if retry_after.isdigit() else 0.0

    # -- writing ---------------------------------------------------------------------------

    def create(
        self, data: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Create a case whose data is ``data`` (status ``new``)."""
        # Sent as given: what is no object is the server's to refuse, as the flow refuses it.
        body = dict(data) if isinstance(data, Mapping) else data
        return self._write("POST", "/", body, idempotency_key)

    def update(
        self,
        case_id: str,
        data: Mapping[str, Any] | None,
        *,
        payload: Any = None,
        preserve_updated_at: bool = False,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Deep-merge ``data`` into the case's data (``PUT /{id}``)."""
        path = f"/{_id(case_id)}" + ("?preserveUpdatedAt=true" if preserve_updated_at else "")
        body = _body(payload, data=None if data is None else dict(data))
        return self._write("PUT", path, body, idempotency_key, expected_version)

    def merge_patch(
        self,
        case_id: str,
        patch: Mapping[str, Any],
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Apply a JSON Merge Patch to the case's data (``PATCH /{id}``)."""
        return self._write(
            "PATCH",
            f"/{_id(case_id)}",
            dict(patch),
            idempotency_key,
            expected_version,
            content_type=MERGE_PATCH,
        )

    def set_status(
        self,
        case_id: str,
        status: str,
        *,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Move the case to ``status``."""
        body = _body(payload, status=status)
        return self._write(
            "PUT", f"/{_id(case_id)}/status", body, idempotency_key, expected_version
        )

    def assign(
        self,
        case_id: str,
        assigned_to: str | None,
        *,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Assign the case to ``assigned_to`` (None unassigns)."""
        body = _body(payload, profileId=assigned_to)
        return self._write(
            "PUT", f"/{_id(case_id)}/assign", body, idempotency_key, expected_version
        )

    def comment(
        self,
        case_id: str,
        comment: str,
        *,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Add a comment by the caller."""
        body = _body(payload, comment=comment)
        return self._write(
            "POST", f"/{_id(case_id)}/comment", body, idempotency_key, expected_version
        )

    def update_comment(
        self,
        case_id: str,
        comment_id: str,
        comment: str,
        *,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Replace a comment's text (its author only)."""
        path = f"/{_id(case_id)}/comment/{_id(comment_id)}"
        body = _body(payload, comment=comment)
        return self._write("PUT", path, body, idempotency_key, expected_version)

    def delete_comment(
        self,
        case_id: str,
        comment_id: str,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Delete a comment (its author only)."""
        path = f"/{_id(case_id)}/comment/{_id(comment_id)}"
        return self._write("DELETE", path, None, idempotency_key, expected_version)

    def extend_deadline(
        self,
        case_id: str,
        name: str,
        *,
        by: BusinessDays | timedelta | None = None,
        until: datetime | None = None,
        reason: str,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Move the deadline's due on ``by`` or to ``until`` (exactly one)."""
        fields: dict[str, Any] = {"action": "extend", "reason": reason}
        if by is not None:
            fields["by"] = _span(by)
        if until is not None:
            fields["until"] = until.isoformat() if isinstance(until, datetime) else until
        return self._deadline(
            case_id, name, _body(payload, **fields), expected_version, idempotency_key
        )

    def remove_deadline(
        self,
        case_id: str,
        name: str,
        *,
        reason: str,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Take the deadline off the case."""
        body = _body(payload, action="remove", reason=reason)
        return self._deadline(case_id, name, body, expected_version, idempotency_key)

    def reinstate_deadline(
        self,
        case_id: str,
        name: str,
        *,
        reason: str,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Put a removed deadline back."""
        body = _body(payload, action="reinstate", reason=reason)
        return self._deadline(case_id, name, body, expected_version, idempotency_key)

    # -- many cases (SPEC §18) ---------------------------------------------------------------

    def bulk(
        self,
        action: Mapping[str, Any],
        *,
        ids: builtins.list[str] | None = None,
        query: Mapping[str, Any] | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Act on many cases (``POST /_bulk``): ``{"data": [{"id", "status", "message"?}],
        "meta": {"bulk", "count", "succeeded", "failed"}}``. Retried as every write is, under
        its key: the server replays a batch it has answered and, for one cut short, does only
        the cases that had not committed, under the same batch id."""
        body: dict[str, Any] = {"action": dict(action), "dryRun": dry_run}
        if ids is not None:
            body["ids"] = builtins.list(ids)
        if query is not None:
            body["query"] = dict(query)
        answer = self._http.call("POST", "/_bulk", body=body, key=_key(idempotency_key))
        result: dict[str, Any] = answer.body
        return result

    def export(self, query: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every case ``query`` selects, as ``GET /{id}`` shows it, read from the streamed
        ``GET /_export?format=ndjson`` one line at a time."""
        return export(self._http, query_pairs(query))

    # -- the calls -------------------------------------------------------------------------

    def _data(self, method: str, path: str) -> Any:
        return self._http.call(method, path).body["data"]

    def _write(
        self,
        method: str,
        path: str,
        body: Any,
        idempotency_key: str | None,
        expected_version: int | None = None,
        *,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        answer = self._http.call(
            method,
            path,
            body=body,
            key=_key(idempotency_key),
            headers=_version(expected_version),
            content_type=content_type,
        )
        case: dict[str, Any] = answer.body["data"]
        return case

    def _deadline(
        self,
        case_id: str,
        name: str,
        body: dict[str, Any],
        expected_version: int | None,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        path = f"/{_id(case_id)}/deadlines/{_id(name)}"
        return self._write("PUT", path, body, idempotency_key, expected_version)
