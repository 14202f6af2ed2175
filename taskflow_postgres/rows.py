"""Between rows and the domain: where a row becomes a Case, an ActivityEntry, a Timer, a
Webhook or a Delivery, and ids and JSON become query parameters."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from taskflow_core.domain.model import (
    CASE_FIELDS,
    ENTRY_FIELDS,
    NEW_STATUS,
    ActivityEntry,
    Case,
    Delivery,
    Position,
    Timer,
    Webhook,
)

# The tables' columns are named after the domain's fields (and are the original's names).
CASE_COLUMNS = CASE_FIELDS
ENTRY_COLUMNS = ENTRY_FIELDS


def case_from_row(row: Mapping[str, Any]) -> Case:
    return Case(
        id=str(row["id"]),
        # The original always set a status and data, but its columns allow NULL; a row
        # edited by hand is still served (as a new, empty case) rather than failing.
        status=row["status"] if row["status"] is not None else NEW_STATUS,
        data=row["data"] if row["data"] is not None else {},
        assigned_to=row["assigned_to"],
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
        version=row["version"],
    )


def newest_first(table: str) -> sql.Composable:
    """A case's log newest first: ties on the time (one millisecond, or a clock standing still)
    in the order the entries were written (the seq of migration 0015; NULL on entries written
    before it, which keep their old order among themselves, by id)."""
    return sql.SQL("{t}.created_at DESC, {t}.seq DESC NULLS LAST, {t}.id DESC").format(
        t=sql.Identifier(table)
    )


def entry_from_row(row: Mapping[str, Any]) -> ActivityEntry:
    """From a row, or from the JSON object of a row aggregated into a case's log."""
    changed_by = row["changed_by"]
    return ActivityEntry(
        id=str(row["id"]),
        case_id=str(row["case_id"]),
        changed_by=str(changed_by) if changed_by is not None else None,
        event_name=row["event_name"],
        event=row["event"],
        comment=row["comment"],
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
    )


def timer_from_row(row: Mapping[str, Any]) -> Timer:
    return Timer(
        case_id=str(row["case_id"]),
        name=row["name"],
        due=utc(row["due"]),
        fire_at=utc(row["fire_at"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
    )


def webhook_from_row(row: Mapping[str, Any]) -> Webhook:
    txid = row["cursor_txid"]
    return Webhook(
        url=row["url"],
        events=tuple(row["events"]),
        secret=row["secret"],
        cursor=None if txid is None else Position(txid, row["cursor_id"]),
        target=row["target"],
    )


def delivery_from_row(row: Mapping[str, Any]) -> Delivery:
    return Delivery(
        id=str(row["id"]),
        webhook_url=row["webhook_url"],
        change=Position(row["change_txid"], row["change_id"]),
        case_id=str(row["case_id"]),
        event_name=row["event_name"],
        status=row["status"],
        attempts=row["attempts"],
        created_at=utc(row["created_at"]),
        next_attempt_at=None if row["next_attempt_at"] is None else utc(row["next_attempt_at"]),
        claim=None if row["claim"] is None else str(row["claim"]),
        claimed_until=None if row["claimed_until"] is None else utc(row["claimed_until"]),
        last_error=row["last_error"],
    )


def utc(value: datetime | str) -> datetime:
    # timestamptz comes back in the session's time zone (as an ISO string inside JSON); the
    # domain speaks UTC whatever the server or role is configured with.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC)


# NaN and Infinity are not JSON: refused here, before the statement, as the other stores
# refuse them, rather than by the server, where the error would abort the transaction.
_dumps = functools.partial(json.dumps, allow_nan=False)


def case_params(case: Case) -> tuple[Any, ...]:
    """A new case's row, in ``CASE_COLUMNS`` order."""
    return (
        case.id,
        case.status,
        json_param(case.data),
        case.assigned_to,
        case.created_at,
        case.updated_at,
        case.version,
    )


def saved_case_params(case: Case, key: uuid.UUID | None) -> tuple[Any, ...]:
    """An existing case's changing columns, then its id: an UPDATE's parameters."""
    return (
        case.status,
        json_param(case.data),
        case.assigned_to,
        case.updated_at,
        case.version,
        key,
    )


def entry_params(entry: ActivityEntry, *, case_id: bool = True) -> tuple[Any, ...]:
    """An entry's row in ``ENTRY_COLUMNS`` order; without ``case_id`` where the statement
    takes the case's id from the case it wrote."""
    head = (entry.id, entry.case_id) if case_id else (entry.id,)
    return (
        *head,
        entry.changed_by,
        entry.event_name,
        json_param(entry.event),
        entry.comment,
        entry.created_at,
        entry.updated_at,
    )


def json_param(value: Any) -> Jsonb:
    """A JSON value as a jsonb query parameter."""
    return Jsonb(value, dumps=_dumps)


def id_param(value: str) -> uuid.UUID | None:
    """The id as a query parameter; None when it is not a UUID, so no row can have it.

    Checked here rather than left to the server: there a malformed uuid is an error, and an
    error aborts the whole transaction the request is running in.
    """
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None
