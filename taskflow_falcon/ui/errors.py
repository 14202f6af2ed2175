"""Error pages: under ``/ui/`` a failure is a page a person understands, with the same status
the API would answer (taskflow_falcon/errors.py decides the status and asks this module for
the page; every other path keeps its JSON)."""

from __future__ import annotations

import falcon

from .pages import PREFIX, render, write_page

# What went wrong and what to do, per status; the error's own message (the core's, safe to
# show) is added below it.
EXPLANATIONS: dict[int, tuple[str, str]] = {
    400: (
        "That request could not be used",
        "Something in the address or the form was not right. Go back and check what you entered.",
    ),
    403: (
        "You may not do that",
        "Your account is not allowed to see this page or to make this change, or the form "
        "was not sent from this site. Open the page again and retry from there.",
    ),
    404: (
        "Page not found",
        "There is no case or page at this address. The link may be wrong or out of date.",
    ),
    405: ("That cannot be done here", "This address does not take that kind of request."),
    409: (
        "That change is not possible now",
        "The case is not in a state that allows it. Open the case again to see where it is.",
    ),
    412: (
        "The case changed meanwhile",
        "Someone changed the case after you opened it; nothing was changed. Open it again.",
    ),
    413: ("That was too much to send", "The form held more than this server accepts."),
    500: (
        "Something went wrong on our side",
        "The page could not be shown. Nothing you did caused this; try again in a moment.",
    ),
    503: (
        "The service is busy or down",
        "The page could not be shown just now. Try again in a moment.",
    ),
}
GENERIC = ("Something went wrong", "The page could not be shown.")


class ErrorPages:
    """Claims the requests under ``/ui`` and writes their error pages."""

    def claims(self, req: falcon.Request) -> bool:
        path = req.path
        return path == PREFIX or path.startswith(PREFIX + "/")

    def write(self, resp: falcon.Response, status: int, detail: str | None = None) -> None:
        heading, explanation = EXPLANATIONS.get(status, GENERIC)
        html = render(
            "error.html",
            status=status,
            heading=heading,
            explanation=explanation,
            detail=detail if detail and detail != heading else None,
            user_name=None,
        )
        write_page(resp, html, status)
