"""Shared pieces of the case browser's tests: a client that keeps the browser's cookie, and
reading the forms' hidden fields out of a page."""

from __future__ import annotations

import re
from typing import Any

import falcon
import falcon.testing

from taskflow_core import Taskflow
from taskflow_falcon import create_app

SECRET = b"a test secret of at least 16 bytes"


class HeaderAuth:
    """The host's authentication, reduced to a header: ``X-User: alice`` signs in alice."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        name = req.get_header("X-User")
        if name:
            req.context.user = {"profile": {"id": name}}


class Browser:
    """A falcon test client that keeps cookies as a browser does, acting as ``user``."""

    def __init__(self, flow: Taskflow, user: str | None = "alice", **app_options: Any) -> None:
        options = {"ui_secret": SECRET, **app_options}
        self.client = falcon.testing.TestClient(
            create_app(flow, middleware=[HeaderAuth()], **options)
        )
        self.user = user
        self.cookies: dict[str, str] = {}

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"X-User": self.user} if self.user else {}
        return {**headers, **(extra or {})}

    def _keep(self, result: falcon.testing.Result) -> falcon.testing.Result:
        for cookie in result.cookies.values():
            self.cookies[cookie.name] = cookie.value
        return result

    def get(self, path: str, query: str = "") -> falcon.testing.Result:
        return self._keep(
            self.client.simulate_get(
                path, query_string=query, headers=self._headers(), cookies=self.cookies
            )
        )

    def post(
        self, path: str, fields: dict[str, str], *, cookies: dict[str, str] | None = None
    ) -> falcon.testing.Result:
        from urllib.parse import urlencode

        return self._keep(
            self.client.simulate_post(
                path,
                body=urlencode(fields),
                headers=self._headers({"Content-Type": "application/x-www-form-urlencoded"}),
                cookies=self.cookies if cookies is None else cookies,
            )
        )

    def submit(
        self, case_id: str, action: str, fields: dict[str, str], *, page: str | None = None
    ) -> falcon.testing.Result:
        """Post a form of the case's page as rendered now (or as ``page`` rendered it)."""
        html = page if page is not None else self.get(f"/ui/cases/{case_id}").text
        hidden = {"csrf_token": token_of(html), "version": version_of(html)}
        return self.post(f"/ui/cases/{case_id}/{action}", {**hidden, **fields})


def token_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def version_of(html: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match, "no version in the page"
    return match.group(1)
