"""``flow.revoke_session``: a signed-out session is refused by every process sharing the store,
until it would have expired by itself; then its row goes with the expired keys. On every
store, through the service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from taskflow_core import Taskflow
from taskflow_core.ports import Store
from tests.support.clock import HandClock

HOUR = timedelta(hours=1)
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def flows(store: Store) -> tuple[Taskflow, Taskflow, HandClock]:
    """Two flows on one store (two workers), on one hand-moved clock."""
    clock = HandClock(START)
    return Taskflow(store, clock=clock), Taskflow(store, clock=clock), clock


class TestRevokedSessions:
    def test_a_revoked_session_is_refused_by_another_flow_on_the_store(self, store: Store) -> None:
        worker, other_worker, _ = flows(store)
        worker.revoke_session("session-1", START + 8 * HOUR)
        assert other_worker.session_revoked("session-1")
        assert worker.session_revoked("session-1")

    def test_other_sessions_stay_valid(self, store: Store) -> None:
        worker, _, _ = flows(store)
        worker.revoke_session("session-1", START + 8 * HOUR)
        assert not worker.session_revoked("session-2")

    def test_revoking_twice_keeps_it_revoked(self, store: Store) -> None:
        worker, _, _ = flows(store)
        worker.revoke_session("session-1", START + 8 * HOUR)
        worker.revoke_session("session-1", START + 8 * HOUR)
        assert worker.session_revoked("session-1")

    def test_the_revocation_is_forgotten_once_the_session_expired_and_pruned(
        self, store: Store
    ) -> None:
        worker, _, clock = flows(store)
        worker.revoke_session("session-1", START + 8 * HOUR)
        clock.at = START + 8 * HOUR - timedelta(seconds=1)
        assert worker.session_revoked("session-1")
        clock.at = START + 9 * HOUR
        assert not worker.session_revoked("session-1")
        assert worker.prune(timedelta(days=1))["idempotencyKeys"] == 1

    def test_a_revocation_is_no_callers_idempotency_key(self, store: Store) -> None:
        worker, _, _ = flows(store)
        worker.revoke_session("k", START + 8 * HOUR)
        user = {"profile": {"id": "k"}}
        case = worker.create({"title": "t"}, user=user, idempotency_key="k")
        again = worker.create({"title": "t"}, user=user, idempotency_key="k")
        assert case["id"] == again["id"]
        assert worker.session_revoked("k")
