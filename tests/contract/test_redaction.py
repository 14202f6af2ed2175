"""Secrets are not stored: what the activity log keeps of a request's user and payload."""

from __future__ import annotations

from typing import Any

import pytest

from taskflow_core import HookEvent, Taskflow
from taskflow_core.ports import Store

USER = {
    "profile": {"id": "alice"},
    "accessToken": "eyJhbGciOi",
    "session": {"Cookie": "sid=1", "roles": ["caseworker"]},
}
BODY = {
    "status": "open",
    "meta": {"comment": "ok", "auth": {"Authorization": "Bearer x", "api-key": "k"}},
    "items": [{"client_secret": "s", "name": "kept"}, {"PASSWORD": "p"}],
    "apikey": 1,
    "api_key": None,
}


def logged_meta(case: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = case["activityLog"][0]["event"]["meta"]
    return meta


def test_secrets_in_the_user_and_the_payload_are_redacted_at_any_depth(store: Store) -> None:
    flow = Taskflow(store)
    case = flow.create({})
    case = flow.set_status(case["id"], "open", user=USER, payload=BODY)
    meta = logged_meta(case)
    assert meta["user"] == {
        "profile": {"id": "alice"},
        "accessToken": "[redacted]",
        "session": {"Cookie": "[redacted]", "roles": ["caseworker"]},
    }
    assert meta["payload"] == {
        "status": "open",
        "meta": {"comment": "ok", "auth": {"Authorization": "[redacted]", "api-key": "[redacted]"}},
        "items": [{"client_secret": "[redacted]", "name": "kept"}, {"PASSWORD": "[redacted]"}],
        "apikey": "[redacted]",
        "api_key": "[redacted]",
    }
    assert case["activityLog"][0]["changedBy"] == "alice"


def test_hooks_still_see_the_request_as_it_came(store: Store) -> None:
    flow = Taskflow(store)
    seen: list[Any] = []

    def look(event: HookEvent) -> None:
        seen.append((event.meta["user"]["accessToken"], event.meta["payload"]["apikey"]))

    flow.hook("status:*:*", look)
    case = flow.create({})
    flow.set_status(case["id"], "open", user=USER, payload=BODY)
    assert seen == [("eyJhbGciOi", 1)]


def test_the_cases_own_data_is_not_redacted(store: Store) -> None:
    flow = Taskflow(store)
    case = flow.create({"passwordHint": "the dog"})
    assert case["data"] == {"passwordHint": "the dog"}


def test_redact_with_no_fragments_stores_everything(store: Store) -> None:
    flow = Taskflow(store, redact=())
    case = flow.create({})
    case = flow.set_status(case["id"], "open", user=USER, payload=BODY)
    assert logged_meta(case)["user"] == USER
    assert logged_meta(case)["payload"] == BODY


def test_redact_takes_the_hosts_own_fragments(store: Store) -> None:
    flow = Taskflow(store, redact=["nationalid"])
    case = flow.create({})
    user = {"profile": {"id": "a"}, "NationalId": "AB123", "accessToken": "kept now"}
    case = flow.comment(case["id"], "hi", user=user)
    assert logged_meta(case)["user"] == {
        "profile": {"id": "a"},
        "NationalId": "[redacted]",
        "accessToken": "kept now",
    }


def test_a_single_string_is_refused() -> None:
    from taskflow_core.memory import MemoryStore

    with pytest.raises(TypeError):
        Taskflow(MemoryStore(), redact="token")
