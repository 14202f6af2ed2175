"""Idempotency keys from Python: a call made again with its key returns the first answer and
does nothing; the key with another call is refused; a failed call leaves the key free."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from taskflow_core import (
    HookEvent,
    IdempotencyKeyReused,
    InvalidRequest,
    PreconditionFailed,
    Taskflow,
)
from taskflow_core.ports import Store
from tests.contract.conftest import ALICE, BOB, OPERATIONS, hook_calls

T0 = datetime(2030, 1, 1, 12, tzinfo=UTC)


class Manual:
    """A clock that moves only when told to."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Manual:
    return Manual(T0)


@pytest.fixture
def flow(store: Store, clock: Manual) -> Taskflow:
    return Taskflow(store, clock=clock)


@pytest.fixture
def case(flow: Taskflow) -> dict[str, Any]:
    made = flow.create({"name": "x"}, user=ALICE)
    return flow.comment(made["id"], "hi", user=ALICE)


class TestReplays:
    def test_a_create_made_again_returns_the_same_case_and_creates_no_other(
        self, flow: Taskflow
    ) -> None:
        first = flow.create({"name": "once"}, user=ALICE, idempotency_key="create-1")
        again = flow.create({"name": "once"}, user=ALICE, idempotency_key="create-1")

        assert again == first
        assert flow.list()["meta"]["count"] == 1

    @pytest.mark.parametrize("operation", list(OPERATIONS))
    def test_a_change_made_again_changes_nothing_and_runs_no_hook(
        self, flow: Taskflow, case: dict[str, Any], operation: str
    ) -> None:
        call = OPERATIONS[operation]
        current = flow.get(case["id"])
        first = call(flow, current, idempotency_key="k")
        after_first = flow.get(case["id"])
        calls = hook_calls(flow)

        again = call(flow, current, idempotency_key="k")

        assert again == first
        assert calls == []
        assert flow.get(case["id"]) == after_first

    def test_the_answer_is_the_first_one_even_after_later_changes(
        self, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        first = flow.set_status(case["id"], "open", idempotency_key="open-it")
        flow.set_status(case["id"], "closed")

        again = flow.set_status(case["id"], "open", idempotency_key="open-it")

        assert again == first
        assert flow.get(case["id"])["status"] == "closed"

    def test_the_answer_is_what_the_decorators_made_the_first_time(self, flow: Taskflow) -> None:
        counter = iter(range(100))
        flow.decorate(lambda case, user: {**case, "decorated": next(counter)})

        first = flow.create({}, idempotency_key="decorated")
        again = flow.create({}, idempotency_key="decorated")

        assert again["decorated"] == first["decorated"]

    def test_a_call_made_again_is_answered_even_if_its_expected_version_is_now_stale(
        self, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        version = flow.get(case["id"])["version"]
        first = flow.update(case["id"], {"a": 1}, expected_version=version, idempotency_key="u")
        again = flow.update(case["id"], {"a": 1}, expected_version=version, idempotency_key="u")
        assert again == first
        with pytest.raises(PreconditionFailed):
            flow.update(case["id"], {"a": 1}, expected_version=version)

    def test_another_users_key_is_another_key(self, flow: Taskflow) -> None:
        alices = flow.create({"n": 1}, user=ALICE, idempotency_key="same")
        bobs = flow.create({"n": 1}, user=BOB, idempotency_key="same")
        anonymous = flow.create({"n": 1}, idempotency_key="same")
        assert len({alices["id"], bobs["id"], anonymous["id"]}) == 3

    def test_anonymous_callers_share_one_scope(self, flow: Taskflow) -> None:
        first = flow.create({"n": 1}, idempotency_key="shared")
        assert flow.create({"n": 1}, idempotency_key="shared") == first


class TestRefusals:
    def test_the_key_with_other_arguments_is_refused_and_nothing_changes(
        self, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        flow.update(case["id"], {"a": 1}, idempotency_key="u")
        before = flow.get(case["id"])

        with pytest.raises(IdempotencyKeyReused):
            flow.update(case["id"], {"a": 2}, idempotency_key="u")

        assert flow.get(case["id"]) == before

    def test_the_key_for_another_operation_is_refused(
        self, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        flow.set_status(case["id"], "open", idempotency_key="k")
        with pytest.raises(IdempotencyKeyReused):
            flow.comment(case["id"], "open", idempotency_key="k")
        with pytest.raises(IdempotencyKeyReused):
            flow.create({}, idempotency_key="k")
        assert flow.list()["meta"]["count"] == 1

    def test_a_failed_call_stores_nothing_so_its_retry_runs(self, flow: Taskflow) -> None:
        failures = [InvalidRequest("not yet")]

        def fail_once(event: HookEvent) -> None:
            if failures:
                raise failures.pop()

        flow.hook("create", fail_once)
        with pytest.raises(InvalidRequest):
            flow.create({"n": 1}, idempotency_key="retry-me")
        assert flow.list()["meta"]["count"] == 0

        made = flow.create({"n": 1}, idempotency_key="retry-me")
        assert flow.list()["data"] == [{k: v for k, v in made.items() if k != "activityLog"}]

    @pytest.mark.parametrize(
        "key", ["", "   ", "x" * 256, "new\nline", "tab\there", "caf\u00e9", "\x7f"]
    )
    def test_an_invalid_key_is_refused_before_anything_happens(
        self, flow: Taskflow, key: str
    ) -> None:
        with pytest.raises(InvalidRequest, match="idempotency_key"):
            flow.create({}, idempotency_key=key)
        assert flow.list()["meta"]["count"] == 0

    def test_a_key_of_255_printable_characters_is_accepted(self, flow: Taskflow) -> None:
        key = "".join(chr(32 + n % 95) for n in range(255))
        first = flow.create({}, idempotency_key=key)
        assert flow.create({}, idempotency_key=key) == first


class TestExpiry:
    def test_a_key_is_remembered_for_24_hours(self, flow: Taskflow, clock: Manual) -> None:
        first = flow.create({}, idempotency_key="day")
        clock.at = T0 + timedelta(hours=24) - timedelta(microseconds=1)
        assert flow.create({}, idempotency_key="day") == first
        assert flow.list()["meta"]["count"] == 1

    def test_after_24_hours_the_key_is_forgotten_and_the_call_runs_anew(
        self, flow: Taskflow, clock: Manual
    ) -> None:
        first = flow.create({}, idempotency_key="day")
        clock.at = T0 + timedelta(hours=24)

        second = flow.create({}, idempotency_key="day")

        assert second["id"] != first["id"]
        assert flow.list()["meta"]["count"] == 2
        # The new answer is the one remembered now.
        assert flow.create({}, idempotency_key="day") == second

    def test_an_expired_key_may_be_used_for_another_call(
        self, flow: Taskflow, clock: Manual
    ) -> None:
        made = flow.create({}, idempotency_key="reuse")
        clock.at = T0 + timedelta(days=2)
        assert flow.set_status(made["id"], "open", idempotency_key="reuse")["status"] == "open"


class TestWhoseKeys:
    XAVIER = {"sub": "xavier"}
    YVONNE = {"sub": "yvonne"}

    def test_a_user_the_flow_cannot_name_may_not_use_a_key_and_nothing_changes(
        self, flow: Taskflow
    ) -> None:
        with pytest.raises(InvalidRequest) as refused:
            flow.create({"n": 1}, user=self.XAVIER, idempotency_key="k")
        assert refused.value.errors == {"idempotency_key": "no user id"}
        assert "actor_id" in refused.value.message
        assert flow.list()["meta"]["count"] == 0

    def test_one_such_user_never_gets_anothers_answer(self, flow: Taskflow) -> None:
        xaviers = flow.create({"for": "xavier"}, user=self.XAVIER)
        flow.update(xaviers["id"], {"secret": "x"}, user=self.XAVIER)
        with pytest.raises(InvalidRequest):
            flow.update(xaviers["id"], {"n": 2}, user=self.XAVIER, idempotency_key="k")
        with pytest.raises(InvalidRequest):
            flow.update(xaviers["id"], {"n": 2}, user=self.YVONNE, idempotency_key="k")
        assert "n" not in flow.get(xaviers["id"])["data"]

    def test_named_by_actor_id_each_user_has_keys_of_their_own(self, store: Store) -> None:
        flow = Taskflow(store, actor_id=lambda user: user and user["sub"])
        xaviers = flow.create({"for": "xavier"}, user=self.XAVIER, idempotency_key="k")
        yvonnes = flow.create({"for": "yvonne"}, user=self.YVONNE, idempotency_key="k")
        assert xaviers["id"] != yvonnes["id"]
        assert yvonnes["data"] == {"for": "yvonne"}
        again = flow.create({"for": "xavier"}, user=self.XAVIER, idempotency_key="k")
        assert again == xaviers
        assert flow.list()["meta"]["count"] == 2
