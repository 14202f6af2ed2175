"""The storage port alone, without the service: what a custom store's unit of work and
repositories must do. A store author runs this first, then the rest of the contract suite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from taskflow_core.errors import Conflict, NotFound
from taskflow_core.idempotency import KEY_LIFETIME, PURGE_BATCH
from taskflow_core.model import ActivityEntry, Case, IdempotencyRecord, new_id
from taskflow_core.ports import Store
from taskflow_core.query import ListQuery

T0 = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def a_case(**changes: object) -> Case:
    case = Case(
        id=new_id(),
        status="new",
        data={"name": "x", "nested": {"list": [1, "two", None]}},
        assigned_to=None,
        created_at=T0,
        updated_at=T0,
    )
    return attrs.evolve(case, **changes)


def an_entry(case: Case, at: datetime = T0, **changes: object) -> ActivityEntry:
    entry = ActivityEntry(
        id=new_id(),
        case_id=case.id,
        changed_by="alice",
        event_name="comment",
        event={"meta": {"comment": "hi"}},
        comment="hi",
        created_at=at,
        updated_at=at,
    )
    return attrs.evolve(entry, **changes)


def added(store: Store, *cases: Case) -> None:
    with store.unit_of_work() as uow:
        for case in cases:
            uow.cases.add(case)
        uow.commit()


class TestUnitOfWork:
    def test_committed_work_is_seen_by_the_next_unit_of_work(self, store: Store) -> None:
        case = a_case()
        added(store, case)
        with store.unit_of_work(read_only=True) as uow:
            assert uow.cases.get(case.id) == case

    def test_leaving_without_commit_rolls_back(self, store: Store) -> None:
        case = a_case()
        with store.unit_of_work() as uow:
            uow.cases.add(case)
        with store.unit_of_work() as uow:
            assert uow.cases.get(case.id) is None

    def test_an_exception_rolls_back(self, store: Store) -> None:
        case = a_case()

        def add_then_fail() -> None:
            with store.unit_of_work() as uow:
                uow.cases.add(case)
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            add_then_fail()
        with store.unit_of_work() as uow:
            assert uow.cases.get(case.id) is None

    def test_rollback_discards_what_came_before_it(self, store: Store) -> None:
        kept, dropped = a_case(), a_case()
        with store.unit_of_work() as uow:
            uow.cases.add(dropped)
            uow.rollback()
            uow.cases.add(kept)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.cases.get(dropped.id) is None
            assert uow.cases.get(kept.id) == kept


class TestCases:
    def test_a_case_reads_back_exactly_as_added(self, store: Store) -> None:
        case = a_case(assigned_to="bob", updated_at=T0 + timedelta(microseconds=1), version=3)
        added(store, case)
        with store.unit_of_work() as uow:
            assert uow.cases.get(case.id) == case
            assert uow.cases.get(case.id, lock=True) == case

    def test_an_unknown_id_reads_as_none(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            assert uow.cases.get(new_id()) is None
            assert uow.cases.get_with_activity(new_id()) is None

    def test_adding_an_existing_id_is_a_conflict(self, store: Store) -> None:
        case = a_case()
        added(store, case)
        with pytest.raises(Conflict), store.unit_of_work() as uow:
            uow.cases.add(attrs.evolve(case, status="other"))

    def test_save_persists_status_data_assignee_updated_at_and_version(self, store: Store) -> None:
        case = a_case()
        added(store, case)
        changed = attrs.evolve(
            case,
            status="open",
            data={"other": True},
            assigned_to="carol",
            updated_at=T0 + timedelta(days=1),
            version=2**40,  # beyond 32 bits: the column holds any version a case reaches
        )
        with store.unit_of_work() as uow:
            uow.cases.save(changed)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.cases.get(case.id) == changed

    def test_saving_a_missing_case_is_not_found(self, store: Store) -> None:
        with pytest.raises(NotFound), store.unit_of_work() as uow:
            uow.cases.save(a_case())

    def test_list_returns_the_page_and_the_count_of_all_matches(self, store: Store) -> None:
        cases = [a_case(created_at=T0 + timedelta(seconds=n)) for n in range(5)]
        added(store, *cases)
        with store.unit_of_work(read_only=True) as uow:
            page = uow.cases.list(ListQuery(limit=2, offset=1))
        assert page.count == 5
        assert page.cases == cases[1:3]


class TestActivity:
    def test_entries_read_back_newest_first(self, store: Store) -> None:
        case = a_case()
        added(store, case)
        first = an_entry(case, T0)
        second = an_entry(case, T0 + timedelta(microseconds=1), comment=None, event={})
        with store.unit_of_work() as uow:
            uow.activity.add(first)
            uow.activity.add(second)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.activity.for_case(case.id) == [second, first]
            assert uow.cases.get_with_activity(case.id) == (case, [second, first])

    def test_a_case_without_entries_reads_with_an_empty_log(self, store: Store) -> None:
        case = a_case()
        added(store, case)
        with store.unit_of_work() as uow:
            assert uow.cases.get_with_activity(case.id) == (case, [])
            assert uow.activity.for_case(case.id) == []

    def test_an_entry_for_a_missing_case_is_not_found(self, store: Store) -> None:
        with pytest.raises(NotFound), store.unit_of_work() as uow:
            uow.activity.add(an_entry(a_case()))

    def test_entries_roll_back_with_their_unit_of_work(self, store: Store) -> None:
        case = a_case()
        added(store, case)
        with store.unit_of_work() as uow:
            uow.activity.add(an_entry(case))
        with store.unit_of_work() as uow:
            assert uow.activity.for_case(case.id) == []


def a_request(
    key: str = "key-1", scope: str = "actor:alice", at: datetime = T0
) -> IdempotencyRecord:
    return IdempotencyRecord(
        scope=scope,
        key=key,
        fingerprint=f"fingerprint of {key}",
        created_at=at,
        expires_at=at + KEY_LIFETIME,
    )


def answered(record: IdempotencyRecord, body: bytes = b'{"data": {}}') -> IdempotencyRecord:
    return attrs.evolve(record, status=200, body=body, version=4)


def stored_answer(store: Store, record: IdempotencyRecord) -> IdempotencyRecord:
    """Claim the record's key and store its answer, in one committed unit of work."""
    with store.unit_of_work() as uow:
        assert uow.idempotency.claim(record) is None
        uow.idempotency.complete(answered(record))
        uow.commit()
    return answered(record)


class TestIdempotencyKeys:
    def test_an_unknown_key_is_claimed_and_reads_back_without_an_answer(self, store: Store) -> None:
        record = a_request()
        with store.unit_of_work() as uow:
            assert uow.idempotency.claim(record) is None
            assert uow.idempotency.get(record.scope, record.key) == record
            uow.commit()
        with store.unit_of_work(read_only=True) as uow:
            assert uow.idempotency.get(record.scope, record.key) == record

    def test_an_answered_key_gives_back_its_answer_byte_for_byte(self, store: Store) -> None:
        # Not UTF-8, and a NUL: the body is kept as bytes, not as text or JSON.
        body = '{"data": {"name": "é"}}'.encode() + b"\x00\xff"
        record = a_request()
        with store.unit_of_work() as uow:
            assert uow.idempotency.claim(record) is None
            uow.idempotency.complete(answered(record, body))
            uow.commit()
        with store.unit_of_work() as uow:
            stored = uow.idempotency.claim(a_request(at=T0 + timedelta(hours=1)))
        assert stored == answered(record, body)
        assert stored is not None
        assert stored.body == body

    def test_a_claim_that_rolls_back_leaves_the_key_free(self, store: Store) -> None:
        record = a_request()
        with store.unit_of_work() as uow:
            assert uow.idempotency.claim(record) is None
        with store.unit_of_work() as uow:
            assert uow.idempotency.get(record.scope, record.key) is None
            assert uow.idempotency.claim(record) is None

    def test_keys_of_different_scopes_are_different_keys(self, store: Store) -> None:
        alices = stored_answer(store, a_request(scope="actor:alice"))
        bobs = a_request(scope="actor:bob")
        with store.unit_of_work() as uow:
            assert uow.idempotency.claim(bobs) is None
            assert uow.idempotency.get(alices.scope, alices.key) == alices

    def test_an_expired_key_is_claimed_again_and_its_answer_forgotten(self, store: Store) -> None:
        old = stored_answer(store, a_request())
        later = attrs.evolve(a_request(at=old.expires_at), fingerprint="another request")
        with store.unit_of_work() as uow:
            assert uow.idempotency.claim(later) is None
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.idempotency.get(later.scope, later.key) == later

    def test_a_key_is_kept_until_the_moment_it_expires(self, store: Store) -> None:
        old = stored_answer(store, a_request())
        just_before = a_request(at=old.expires_at - timedelta(microseconds=1))
        with store.unit_of_work() as uow:
            assert uow.idempotency.claim(just_before) == old

    def test_storing_an_answer_forgets_a_few_expired_keys(self, store: Store) -> None:
        expired = [stored_answer(store, a_request(f"old-{n}")) for n in range(PURGE_BATCH + 2)]
        fresh = stored_answer(store, a_request("fresh", at=T0 + timedelta(hours=1)))
        now = T0 + KEY_LIFETIME + timedelta(seconds=1)
        newest = a_request("newest", at=now)
        with store.unit_of_work() as uow:
            assert uow.idempotency.claim(newest) is None
            uow.idempotency.complete(answered(newest))
            uow.commit()
        with store.unit_of_work() as uow:
            left = [r for r in expired if uow.idempotency.get(r.scope, r.key) is not None]
            assert len(left) == 2
            assert uow.idempotency.get(fresh.scope, fresh.key) == fresh
            assert uow.idempotency.get(newest.scope, newest.key) == answered(newest)
