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


PERSON = {
    "profile": {"id": "alice", "email": "alice@example.com", "name": "Alice A."},
    "roles": ["caseworker"],
    "claims": {"email": "alice@example.com", "sub": "alice"},
    "accessToken": "eyJhbGciOi",
}


class TestWhatTheLogKeepsOfTheUser:
    def test_by_default_the_whole_user_is_kept_secrets_redacted(self, store: Store) -> None:
        case = Taskflow(store).create({}, user=PERSON)
        assert logged_meta(case)["user"] == {**PERSON, "accessToken": "[redacted]"}

    def test_user_fields_keep_only_those_paths_and_no_email_is_shown(self, store: Store) -> None:
        flow = Taskflow(store, user_fields=("profile.id", "roles", "profile.phone"))
        case = flow.create({}, user=PERSON)
        case = flow.comment(case["id"], "hi", user=PERSON)
        expected = {"profile": {"id": "alice"}, "roles": ["caseworker"]}
        for entry in case["activityLog"]:
            assert entry["event"]["meta"]["user"] == expected
            assert entry["changedBy"] == "alice"
        shown = str(flow.get(case["id"], user={"profile": {"id": "bob"}})) + str(
            flow.changes(wait=10)
        )
        assert "alice@example.com" not in shown

    def test_secrets_inside_kept_fields_are_still_redacted(self, store: Store) -> None:
        flow = Taskflow(store, user_fields=("profile",))
        user = {"profile": {"id": "alice", "apiKey": "k"}, "email": "a@x"}
        case = flow.create({}, user=user)
        assert logged_meta(case)["user"] == {"profile": {"id": "alice", "apiKey": "[redacted]"}}

    def test_an_object_user_keeps_the_attributes_named(self, store: Store) -> None:
        class Profile:
            id = "alice"
            email = "alice@example.com"

        class User:
            profile = Profile()
            roles = ("caseworker",)

        flow = Taskflow(store, user_fields=("profile.id", "roles"))
        case = flow.create({}, user=User())
        assert logged_meta(case)["user"] == {"profile": {"id": "alice"}, "roles": ["caseworker"]}

    def test_hooks_still_see_the_whole_user(self, store: Store) -> None:
        flow = Taskflow(store, user_fields=())
        seen: list[Any] = []
        flow.hook("create", lambda event: seen.append(event.meta["user"]))
        case = flow.create({}, user=PERSON)
        assert seen == [PERSON]
        assert logged_meta(case)["user"] == {}

    @pytest.mark.parametrize("fields", ["profile.id", ["profile..id"], [""], [3]])
    def test_malformed_user_fields_are_refused_when_the_flow_is_made(
        self, store: Store, fields: Any
    ) -> None:
        with pytest.raises((TypeError, ValueError)):
            Taskflow(store, user_fields=fields)
