"""Reading a page's form post: a bounded urlencoded body, its CSRF token and the version the
form was rendered with."""

from __future__ import annotations

from typing import Any

import falcon
from falcon.uri import parse_query_string

from taskflow_core.errors import InvalidRequest

from .security import FIELD, Csrf

FORM_TYPE = "application/x-www-form-urlencoded"


class Form:
    """The fields of one post; a field sent twice keeps its last value."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self._fields = fields

    def get(self, name: str) -> str | None:
        value = self._fields.get(name)
        if isinstance(value, list):
            value = value[-1] if value else None
        return value if isinstance(value, str) else None

    def all(self, name: str) -> list[str]:
        """Every value of a field that may be sent many times (a ticked box per row)."""
        value = self._fields.get(name)
        values = value if isinstance(value, list) else [value]
        return [item for item in values if isinstance(item, str)]

    def text(self, name: str, label: str) -> str:
        """A field that must hold something; InvalidRequest naming ``label`` when it does
        not."""
        value = (self.get(name) or "").strip()
        if not value:
            raise InvalidRequest(f"{label} is required", {name: "required"})
        return value

    def version(self) -> int:
        """The version of the case the form was rendered with (SPEC §7): what makes a stale
        form change nothing."""
        raw = self.get("version") or ""
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise InvalidRequest("The form did not say which version of the case it showed")
        return int(raw)


def read_form(req: falcon.Request, csrf: Csrf, max_body_size: int) -> Form:
    """The post's fields, once its token is checked (CrossSiteRequest otherwise)."""
    content_type = (req.content_type or "").split(";", 1)[0].strip().lower()
    length = req.content_length or 0
    if length > max_body_size:
        raise falcon.HTTPContentTooLarge(
            description=f"The form is larger than {max_body_size} bytes"
        )
    body = req.bounded_stream.read(max_body_size + 1) if length else b""
    if len(body) > max_body_size:
        raise falcon.HTTPContentTooLarge(
            description=f"The form is larger than {max_body_size} bytes"
        )
    fields: dict[str, Any] = {}
    readable = True
    if content_type == FORM_TYPE:
        try:
            fields = parse_query_string(body.decode("utf-8"), keep_blank=True, csv=False)
        except UnicodeDecodeError:
            readable = False
    form = Form(fields)
    # The token before anything else: a cross-site post learns nothing, not even a 400.
    csrf.check(req, form.get(FIELD))
    if not readable:
        raise InvalidRequest("The form was not sent as UTF-8 text")
    return form
