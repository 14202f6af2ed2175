"""``GET /_views`` and ``GET /_counts``: finding the work (docs/finding.md)."""

from __future__ import annotations

import falcon

from .listing import list_query_from_string
from .rendering import write_json
from .resources import _Resource, user_of


class ViewsResource(_Resource):
    """``/_views``: the flow's named views, each with its count for the requesting user."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        write_json(resp, {"data": self.flow.views(user=user_of(req))})


class CountsResource(_Resource):
    """``/_counts?by=status|assignedTo``, with the listing's filters."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = list_query_from_string(req.query_string)
        by = query.pop("by", None)
        write_json(resp, self.flow.counts(by, query, user=user_of(req)))
