"""``/ui/cases/{id}``: one case, and the forms that act on it.

Each form carries the version of the case it was rendered with and the core checks it under
the row lock (``expected_version``, SPEC §7): a form rendered before someone else's change
changes nothing, and the page answers 409 showing the case as it is now. A form that worked
redirects (303) to the case page, so a reload does not post it again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import falcon

from taskflow_core import BusinessDays
from taskflow_core.domain.validation import canonical_id
from taskflow_core.errors import InvalidRequest, NotFound, PreconditionFailed, TaskflowError

from ..errors import status_for
from .context import Pages
from .forms import Form
from .pages import see_other
from .timeline import timeline

# What the page says after each kind of change (the ``done`` of the redirect's address).
NOTICES = {
    "comment": "Your comment was added.",
    "assign": "The assignee was changed.",
    "status": "The status was changed.",
    "deadline": "The deadline was changed.",
}
STALE = (
    "This case was changed by someone else after you opened it, so your change was not "
    "made. Below is the case as it is now: check it, then try again."
)
MAX_EXTENSION_DAYS = 3650
SHOWN_FIELDS: dict[str, Any] = {
    "status": None,
    "assignedTo": None,
    "createdAt": None,
    "updatedAt": None,
    "data": {},
}


def case_path(case_id: str) -> str:
    return f"/ui/cases/{quote(case_id)}"


class CasePage:
    """``GET /ui/cases/{case_id}``."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    def on_get(self, req: falcon.Request, resp: falcon.Response, case_id: str) -> None:
        done = req.get_param("done")
        show(self.pages, req, resp, case_id, notice=NOTICES.get(done or ""))


def show(
    pages: Pages,
    req: falcon.Request,
    resp: falcon.Response,
    case_id: str,
    *,
    status: int = 200,
    notice: str | None = None,
    problem: str | None = None,
    draft: str = "",
) -> None:
    """Render the case as it is now, with a notice or a problem above it."""
    flow, user = pages.flow, pages.user(req)
    outcome = flow.read(case_id, user=user)
    # A host's decorator may leave fields out (SPEC §1): the page shows them as unset.
    case = {**SHOWN_FIELDS, "id": case_id, **outcome.case}
    workflow = flow.workflow()
    pages.write(
        req,
        resp,
        "case.html",
        status=status,
        case=case,
        title=flow.title_of(case),
        version=outcome.version,
        entries=timeline(case.get("activityLog") or ()),
        declared=bool(workflow["transitions"]),
        next_statuses=case.get("nextStatuses") or [],
        deadlines=case.get("deadlines") or [],
        me=flow.actor_of(user) if user is not None else None,
        notice=notice,
        problem=problem,
        draft=draft,
    )


Action = Callable[[Pages, str, Form, Any, int], None]


def _comment(pages: Pages, case_id: str, form: Form, user: Any, version: int) -> None:
    text = form.text("comment", "A comment")
    pages.flow.comment(case_id, text, user=user, expected_version=version)


def _assign(pages: Pages, case_id: str, form: Form, user: Any, version: int) -> None:
    to = form.get("to")
    assignee: str | None
    if to == "me":
        assignee = pages.flow.actor_of(user)
        if assignee is None:
            raise InvalidRequest("You are not signed in, so nothing can be assigned to you")
    elif to == "someone":
        assignee = form.text("assignee", "The person to assign to")
    elif to == "nobody":
        assignee = None
    else:
        raise InvalidRequest("Choose whom to assign the case to", {"to": "invalid"})
    pages.flow.assign(case_id, assignee, user=user, expected_version=version)


def _status(pages: Pages, case_id: str, form: Form, user: Any, version: int) -> None:
    status = form.text("status", "The new status")
    pages.flow.set_status(case_id, status, user=user, expected_version=version)


def _deadline(pages: Pages, case_id: str, form: Form, user: Any, version: int) -> None:
    name = form.text("name", "The deadline")
    reason = form.text("reason", "A reason")
    action = form.get("action")
    flow = pages.flow
    if action == "extend":
        raw = (form.get("amount") or "").strip()
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_EXTENSION_DAYS:
            raise InvalidRequest(
                f"Extend by a whole number of days from 1 to {MAX_EXTENSION_DAYS}",
                {"amount": "invalid"},
            )
        unit = form.get("unit")
        if unit not in ("business-days", "days"):
            raise InvalidRequest("Extend by business days or days", {"unit": "invalid"})
        by = BusinessDays(int(raw)) if unit == "business-days" else timedelta(days=int(raw))
        flow.extend_deadline(
            case_id, name, by=by, reason=reason, user=user, expected_version=version
        )
    elif action == "remove":
        flow.remove_deadline(case_id, name, reason=reason, user=user, expected_version=version)
    elif action == "reinstate":
        flow.reinstate_deadline(case_id, name, reason=reason, user=user, expected_version=version)
    else:
        raise InvalidRequest("Choose what to do with the deadline", {"action": "invalid"})


ACTIONS: dict[str, Action] = {
    "comment": _comment,
    "assign": _assign,
    "status": _status,
    "deadline": _deadline,
}


class CaseAction:
    """``POST /ui/cases/{case_id}/{action}``: one form's change."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, case_id: str, action: str
    ) -> None:
        case_id = canonical_id(case_id)
        run = ACTIONS.get(action)
        if run is None:
            raise NotFound("There is no such action")
        form = self.pages.form(req)
        user = self.pages.user(req)
        try:
            version = form.version()
            run(self.pages, case_id, form, user, version)
        except PreconditionFailed:
            # Answered 409 (a conflict with the case's state), not the API's 412: the page
            # is what the person sees, and it shows the case as it is now.
            show(self.pages, req, resp, case_id, status=409, problem=STALE, draft=_draft(form))
            return
        except NotFound:
            raise
        except TaskflowError as error:
            # The case is still there: show it, with what was wrong, and the same status
            # the API would answer.
            problem = error.message
            show(
                self.pages,
                req,
                resp,
                case_id,
                status=status_for(error),
                problem=problem,
                draft=_draft(form),
            )
            return
        see_other(resp, f"{case_path(case_id)}?done={action}")


def _draft(form: Form) -> str:
    """A comment being typed survives a refused post, so it is not lost."""
    return form.get("comment") or ""
