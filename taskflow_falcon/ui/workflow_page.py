"""``/ui/workflow``: the declared workflow as a picture, each status with its count."""

from __future__ import annotations

import falcon

from .context import Pages
from .diagram import draw


class WorkflowPage:
    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        flow, user = self.pages.flow, self.pages.user(req)
        workflow = flow.workflow()
        counted = flow.counts("status", user=user)
        counts = {group["value"]: group["count"] for group in counted["data"]}
        self.pages.write(
            req,
            resp,
            "workflow.html",
            declared=bool(workflow["transitions"]),
            picture=draw(workflow, counts) if workflow["transitions"] else None,
            statuses=[
                {"name": status, "count": counts.get(status, 0)} for status in workflow["statuses"]
            ],
            others=[
                group for group in counted["data"] if group["value"] not in workflow["statuses"]
            ],
        )
