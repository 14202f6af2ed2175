"""``/ui/``: the inbox. The filters are the URL's (a bookmark is a saved search) and become
one ``flow.list`` query; the tabs are the declared views with their counts (SPEC §13)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import attrs
import falcon
from falcon.uri import parse_query_string

from taskflow_core import Taskflow
from taskflow_core.application import bulk_request
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
        return cls.from_params(req.get_param)

    @classmethod
    def from_string(cls, query_string: str) -> Filters:
        """The filters an inbox address's query string (``params_string``) holds: what a
        bulk form carries, to act on the inbox's cases and to link back to it."""
        params = parse_query_string(query_string, keep_blank=False, csv=False)

        def get_param(name: str) -> str | None:
            value = params.get(name)
            if isinstance(value, list):
                value = value[-1] if value else None
            return value if isinstance(value, str) else None

        return cls.from_params(get_param)

    @classmethod
    def from_params(cls, get_param: Callable[[str], str | None]) -> Filters:
        sort = get_param("sort") or DEFAULT_SORT
        if sort not in SORTS:
            raise InvalidRequest(
                f"Sort by one of: {', '.join(SORTS.values())}", {"sort": "unknown"}
            )
        order = get_param("order") or ("asc" if sort == "due" else "desc")
        if order not in ("asc", "desc"):
            raise InvalidRequest("The order is asc or desc", {"order": "invalid"})
        raw_page = get_param("page") or "1"
        if not raw_page.isascii() or not raw_page.isdigit() or not 1 <= int(raw_page) <= 10**6:
            raise InvalidRequest("The page is a number from 1", {"page": "invalid"})
        return cls(
            view=(get_param("view") or "").strip(),
            status=(get_param("status") or "").strip(),
            assignee=(get_param("assignee") or "").strip(),
            unassigned=get_param("unassigned") in ("1", "true", "on"),
            q=(get_param("q") or "").strip(),
            sort=sort,
            order=order,
            page=int(raw_page),
        )

    def query(self) -> dict[str, Any]:
        """The ``flow.list`` query of this page."""
        return {
            **self.selection(),
            "sort": {"column": self.sort, "ascending": "true" if self.order == "asc" else "false"},
            "limit": PAGE_SIZE,
            "offset": (self.page - 1) * PAGE_SIZE,
        }

    def selection(self) -> dict[str, Any]:
        """The filters alone, without sort or paging: every case the inbox's pages show,
        as a bulk action or an export takes them."""
        query: dict[str, Any] = {}
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
        query = attrs.evolve(self, **changes).params_string()
        return "/ui/" + ("?" + query if query else "")

    def params_string(self) -> str:
        """The query string of the inbox's address (defaults left out)."""
        params = {
            "view": self.view,
            "status": self.status,
            "assignee": self.assignee,
            "unassigned": "1" if self.unassigned else "",
            "q": self.q,
            "sort": "" if self.sort == DEFAULT_SORT else self.sort,
            "order": "" if self.order == default_order(self.sort) else self.order,
            "page": "" if self.page == 1 else str(self.page),
        }
        return urlencode({name: value for name, value in params.items() if value})

    def export_url(self, fmt: str) -> str:
        """Where the cases these filters match are taken out as ``fmt`` (csv, ndjson);
        sort and page do not apply to an export."""
        query = attrs.evolve(self, sort=DEFAULT_SORT, order=default_order(DEFAULT_SORT), page=1)
        params = query.params_string()
        return f"/ui/export.{fmt}" + ("?" + params if params else "")

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
            # Looked up now, so a test can lower it.
            bulk_limit=bulk_request.MAX_CASES,
            me=flow.actor_of(user) if user is not None else None,
        )
