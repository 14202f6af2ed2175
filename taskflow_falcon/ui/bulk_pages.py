"""``/ui/bulk`` and ``/ui/export.{csv,ndjson}``: acting on many cases from the inbox, and
taking them out (SPEC §18, docs/browser.md).

A bulk action takes two posts, as a person must see what it will do before it does it:
``POST /ui/bulk`` is a dry run (``flow.bulk(..., dry_run=True)``) answered with a page that
lists the cases and says which cannot be changed; its Confirm button posts the cases the dry
run found changeable to ``POST /ui/bulk/run`` with an idempotency key made for that page, so
a double click or a reload of the results acts once (SPEC §8: the second post replays the
first's answer). The export links stream through the same code as ``GET /_export``, with the
page's user (the session's, where the API would want a bearer token).
"""

from __future__ import annotations

import secrets
from typing import Any

import falcon

from taskflow_core import Taskflow
from taskflow_core.application import bulk_request
from taskflow_core.application.bulk_request import BulkRequest
from taskflow_core.errors import InvalidRequest, TaskflowError

from ..bulk import stream_export
from .context import Pages
from .forms import Form
from .inbox import Filters
from .security import protect

VERBS = ("status", "assign", "comment")
# The confirmation's idempotency key: what secrets.token_urlsafe(24) makes.
KEY_LENGTH = 32


def read_action(pages: Pages, form: Form, user: Any) -> dict[str, Any]:
    """The one action the form asks for, as ``flow.bulk`` takes it; InvalidRequest for
    none, two, or one without its value."""
    verbs = set(form.all("verb"))
    if not verbs:
        raise InvalidRequest(
            "Choose what to do with the cases: set a status, assign them, or comment",
            {"verb": "required"},
        )
    if len(verbs) > 1:
        raise InvalidRequest(
            "Choose one thing to do with the cases at a time", {"verb": "more than one"}
        )
    verb = verbs.pop()
    if verb == "status":
        return {"status": form.text("new_status", "The new status")}
    if verb == "comment":
        return {"comment": form.text("comment", "A comment")}
    if verb != "assign":
        raise InvalidRequest("There is no such action", {"verb": "invalid"})
    to = form.get("to")
    if to == "me":
        me = pages.flow.actor_of(user)
        if me is None:
            raise InvalidRequest("You are not signed in, so nothing can be assigned to you")
        return {"assign": me}
    if to == "someone":
        return {"assign": form.text("assignee", "The person to assign to")}
    if to == "nobody":
        return {"assign": None}
    raise InvalidRequest("Choose whom to assign the cases to", {"to": "invalid"})


def action_fields(action: dict[str, Any]) -> dict[str, str]:
    """The hidden fields that ask for ``action`` again (the confirmation's form), with
    "me" already resolved: the confirmation acts on what its page said."""
    if "status" in action:
        return {"verb": "status", "new_status": action["status"]}
    if "comment" in action:
        return {"verb": "comment", "comment": action["comment"]}
    if action["assign"] is None:
        return {"verb": "assign", "to": "nobody"}
    return {"verb": "assign", "to": "someone", "assignee": action["assign"]}


def describe(action: dict[str, Any], count: int) -> str:
    """What the action does to ``count`` cases, as a sentence's middle: "set 3 cases to
    'granted'"."""
    cases = f"{count} case" + ("" if count == 1 else "s")
    if "status" in action:
        return f"set {cases} to \u2018{action['status']}\u2019"
    if "comment" in action:
        return f"add your comment to {cases}"
    if action["assign"] is None:
        return f"unassign {cases}"
    return f"assign {cases} to {action['assign']}"


def _filters(form: Form) -> Filters:
    return Filters.from_string(form.get("filters") or "")


def _ids(form: Form) -> list[str]:
    ids = [value.strip() for value in form.all("id") if value.strip()]
    if not ids:
        raise InvalidRequest(
            "No case was selected: tick the cases to change, or choose every case matching "
            "the filters",
            {"id": "required"},
        )
    return ids


def titles_by_id(flow: Taskflow, ids: list[str], user: Any) -> dict[str, str]:
    """Each case's title, read as ``user`` (a case that cannot be read keeps its id)."""
    titles: dict[str, str] = {}
    for case_id in ids:
        try:
            titles[case_id] = flow.title_of(flow.get(case_id, user=user))
        except TaskflowError:
            continue
    return titles


def _rows(rows: list[dict[str, Any]], titles: dict[str, str]) -> list[dict[str, Any]]:
    return [{**row, "title": titles.get(row["id"], row["id"])} for row in rows]


class BulkPreview:
    """``POST /ui/bulk``: the dry run, and the page that asks to confirm it."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        flow, user = self.pages.flow, self.pages.user(req)
        form = self.pages.form(req)
        filters = _filters(form)
        action = read_action(self.pages, form, user)
        scope = form.get("scope") or "selected"
        if scope == "matching":
            # In the inbox's order, every page of it.
            query = {**filters.selection(), "sort": filters.query()["sort"]}
            preview = flow.bulk(action, query=query, dry_run=True, user=user)
            # A query's cases are visible to the user: one listing names them all.
            listed = flow.list({**query, "limit": bulk_request.MAX_CASES}, user=user)
            titles = {case["id"]: flow.title_of(case) for case in listed["data"]}
        elif scope == "selected":
            ids = _ids(form)
            preview = flow.bulk(action, ids=ids, dry_run=True, user=user)
            readable = [row["id"] for row in preview["data"] if row["status"] != 404]
            titles = titles_by_id(flow, readable, user)
        else:
            raise InvalidRequest("Choose which cases to change", {"scope": "invalid"})
        rows = _rows(preview["data"], titles)
        ready = [row for row in rows if row["status"] < 300]
        refused = [row for row in rows if row["status"] >= 300]
        self.pages.write(
            req,
            resp,
            "bulk_confirm.html",
            filters=filters,
            matching=scope == "matching",
            action=action,
            fields=action_fields(action),
            ready=ready,
            refused=refused,
            will=describe(action, len(ready)),
            key=secrets.token_urlsafe(24),
        )


class BulkRun:
    """``POST /ui/bulk/run``: the confirmed action, as the signed-in user, and its
    results; the same confirmation posted again answers the same results, acting on
    nothing twice."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        flow, user = self.pages.flow, self.pages.user(req)
        form = self.pages.form(req)
        filters = _filters(form)
        key = form.get("key") or ""
        if len(key) != KEY_LENGTH or not key.isascii() or not key.isprintable():
            raise InvalidRequest(
                "The confirmation is not one this site made: go back to the inbox and "
                "choose the cases again",
                {"key": "invalid"},
            )
        action = read_action(self.pages, form, user)
        request = BulkRequest.of(action, _ids(form), None, False)
        outcome = flow.run_bulk(request, user=user, idempotency_key=key)
        rows = outcome.answer["data"]
        readable = [row["id"] for row in rows if row["status"] != 404]
        rows = _rows(rows, titles_by_id(flow, readable, user))
        self.pages.write(
            req,
            resp,
            "bulk_done.html",
            filters=filters,
            meta=outcome.answer["meta"],
            replayed=outcome.replayed,
            done=[row for row in rows if row["status"] < 300],
            failed=[row for row in rows if row["status"] >= 300],
            did=describe(action, outcome.answer["meta"]["succeeded"]),
        )


class ExportPage:
    """``GET /ui/export.csv`` and ``/ui/export.ndjson`` with the inbox's filters: every
    case they match, streamed as ``GET /_export`` streams it, for the page's user."""

    def __init__(self, pages: Pages, fmt: str) -> None:
        self.pages = pages
        self.fmt = fmt

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        filters = Filters.from_request(req)
        stream_export(resp, self.pages.flow, filters.selection(), self.fmt, self.pages.user(req))
        protect(resp)
