"""What every page resource shares: the flow, the CSRF token issuer, who is asking, and
rendering with the parts every page's layout needs."""

from __future__ import annotations

from typing import Any

import falcon

from taskflow_core import Taskflow

from ..resources import user_of
from .forms import Form, read_form
from .pages import render, write_page
from .security import Csrf


class Pages:
    def __init__(self, flow: Taskflow, csrf: Csrf, *, max_body_size: int) -> None:
        self.flow = flow
        self.csrf = csrf
        self.max_body_size = max_body_size

    def user(self, req: falcon.Request) -> Any:
        """The same user as the API's (``req.context.user``), so the same rules apply."""
        return user_of(req)

    def form(self, req: falcon.Request) -> Form:
        return read_form(req, self.csrf, self.max_body_size)

    def write(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        template: str,
        *,
        status: int = 200,
        **context: Any,
    ) -> None:
        user = self.user(req)
        html = render(
            template,
            csrf_token=self.csrf.token(req, resp),
            user_name=self.flow.actor_of(user) if user is not None else None,
            **context,
        )
        write_page(resp, html, status)
