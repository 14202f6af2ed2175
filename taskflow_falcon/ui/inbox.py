"""``/ui/``: the inbox. The filters are the URL's (a bookmark is a saved search) and become
one ``flow.list`` query; the tabs are the declared views with their counts (SPEC §13)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import attrs
import falcon

from taskflow_core import Taskflow
from taskflow_core.errors import InvalidRequest

from .context import Pages

PAGE_SIZE = 50
# The columns a person may sort by, as the listing names them, and how the page labels them.
SORTS = {
    "updatedAt": "Updated",
    "createdAt": "Created",
    "due": "Deadline",
    "status": "Status",
    "assignedTo": "Assignee",
}
DEFAULT_SORT = "updatedAt"
# Running deadlines, and those past due, are the ones a caseworker is racing.
LIVE_DEADLINES = ("running", "overdue")


@attrs.frozen
class Filters:
    """What the inbox shows, as its URL says it."""

    view: str = ""
    status: str = ""
    assignee: str = ""
    unassigned: bool = False
    q: str = ""
    sort: str = DEFAULT_SORT
    order: str = "desc"
    page: int = 1

    @classmethod
    def from_request(cls, req: falcon.Request) -> Filters:
        sort = req.get_param("sort") or DEFAULT_SORT
        if sort not in SORTS:
            raise InvalidRequest(
                f"Sort by one of: {', '.join(SORTS.values())}", {"sort": "unknown"}
            )
        order = req.get_param("order") or ("asc" if sort == "due" else "desc")
        if order not in ("asc", "desc"):
            raise InvalidRequest("The order is asc or desc", {"order": "invalid"})
        raw_page = req.get_param("page") or "1"
        if not raw_page.isascii() or not raw_page.isdigit() or not 1 <= int(raw_page) <= 10**6:
            raise InvalidRequest("The page is a number from 1", {"page": "invalid"})
        return cls(
            view=(req.get_param("view") or "").strip(),
            status=(req.get_param("status") or "").strip(),
            assignee=(req.get_param("assignee") or "").strip(),
            unassigned=req.get_param("unassigned") in ("1", "true", "on"),
            q=(req.get_param("q") or "").strip(),
            sort=sort,
            order=order,
            page=int(raw_page),
        )

    def query(self) -> dict[str, Any]:
        """The ``flow.list`` query of this page."""
        query: dict[str, Any] = {
            "sort": {"column": self.sort, "ascending": "true" if self.order == "asc" else "false"},
            "limit": PAGE_SIZE,
            "offset": (self.page - 1) * PAGE_SIZE,
        }
        if self.view:
            query["view"] = self.view
        if self.status:
            query["status"] = [self.status]
        if self.assignee:
            query["assignedTo"] = [self.assignee]
        if self.unassigned:
            query["unassigned"] = True
        if self.q:
            query["q"] = self.q
        return query

    def url(self, **changes: Any) -> str:
        """The inbox's address with ``changes`` applied; defaults are left out, so that
        addresses stay short and a bookmark reads plainly."""
        changed = attrs.evolve(self, **changes)
        params = {
            "view": changed.view,
            "status": changed.status,
            "assignee": changed.assignee,
            "unassigned": "1" if changed.unassigned else "",
            "q": changed.q,
            "sort": "" if changed.sort == DEFAULT_SORT else changed.sort,
            "order": "" if changed.order == default_order(changed.sort) else changed.order,
            "page": "" if changed.page == 1 else str(changed.page),
        }
        kept = {name: value for name, value in params.items() if value}
        return "/ui/" + ("?" + urlencode(kept) if kept else "")

    def sorted_by(self, column: str) -> str:
        """The address that sorts by ``column``; the same column again flips the order."""
        if column == self.sort:
            return self.url(order="asc" if self.order == "desc" else "desc", page=1)
        return self.url(sort=column, order=default_order(column), page=1)


def default_order(sort: str) -> str:
    return "asc" if sort == "due" else "desc"


def earliest_deadline(case: dict[str, Any]) -> dict[str, Any] | None:
    """The running or overdue deadline due first, if any."""
    live = [
        deadline
        for deadline in case.get("deadlines") or ()
        if deadline.get("state") in LIVE_DEADLINES and deadline.get("due")
    ]
    return min(live, key=lambda deadline: str(deadline["due"]), default=None)


def row(flow: Taskflow, case: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": case["id"],
        "title": flow.title_of(case),
        "status": case.get("status"),
        "assignedTo": case.get("assignedTo"),
        "deadline": earliest_deadline(case),
        "updatedAt": case.get("updatedAt"),
    }


class InboxPage:
    """``GET /ui/``."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        flow, user = self.pages.flow, self.pages.user(req)
        filters = Filters.from_request(req)
        views = flow.views(user=user)
        if filters.view and filters.view not in {view["name"] for view in views}:
            raise InvalidRequest(f"There is no view named {filters.view!r}", {"view": "unknown"})
        listing = flow.list(filters.query(), user=user)
        total: int = listing["meta"]["count"]
        first = (filters.page - 1) * PAGE_SIZE
        statuses = flow.workflow()["statuses"]
        self.pages.write(
            req,
            resp,
            "inbox.html",
            filters=filters,
            views=views,
            rows=[row(flow, case) for case in listing["data"]],
            total=total,
            first=first + 1,
            last=first + len(listing["data"]),
            has_previous=filters.page > 1,
            has_next=first + PAGE_SIZE < total,
            statuses=statuses,
            sorts=SORTS,
            current_view=next((v for v in views if v["name"] == filters.view), None),
        )
