"""The storage port alone, without the service: what a custom store's unit of work and
repositories must do. A store author runs this first, then the rest of the contract suite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from taskflow_core.application.case_log import CaseLog
from taskflow_core.application.idempotency import KEY_LIFETIME, PURGE_BATCH
from taskflow_core.application.query import ListQuery
from taskflow_core.domain.model import (
    ActivityEntry,
    Case,
    Change,
    Delivery,
    IdempotencyRecord,
    Position,
    Webhook,
    new_id,
)
from taskflow_core.errors import Conflict, NotFound
from taskflow_core.ports import Store
from tests.receiver import eventually

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

    def test_list_within_a_budget_reads_the_cases_that_fit_and_defers_the_rest(
        self, store: Store
    ) -> None:
        cases = [
            a_case(created_at=T0 + timedelta(seconds=n), data={"text": "x" * 100}) for n in range(5)
        ]
        added(store, *cases)
        with store.unit_of_work(read_only=True) as uow:
            page = uow.cases.list(ListQuery(limit=4, offset=1), budget=250)
        assert page.count == 5
        # Two cases of about 115 bytes each fit in 250; the page's other two are deferred.
        assert page.cases == cases[1:3]
        assert [d.id for d in page.deferred] == [c.id for c in cases[3:5]]
        assert all(100 < d.size < 150 for d in page.deferred)

    def test_list_within_a_budget_reads_the_first_case_whatever_its_size(
        self, store: Store
    ) -> None:
        cases = [a_case(created_at=T0 + timedelta(seconds=n)) for n in range(2)]
        added(store, *cases)
        with store.unit_of_work(read_only=True) as uow:
            page = uow.cases.list(ListQuery(), budget=1)
        assert page.cases == cases[:1]
        assert [d.id for d in page.deferred] == [cases[1].id]

    def test_list_after_an_id_reads_the_cases_whose_id_sorts_after_it_uncounted(
        self, store: Store
    ) -> None:
        cases = sorted((a_case(status="open") for _ in range(5)), key=lambda c: c.id)
        added(store, a_case(status="closed"), *cases)
        query = ListQuery(statuses=("open",), sort_column="id", limit=2, counted=False)
        with store.unit_of_work(read_only=True) as uow:
            first = uow.cases.list(query)
            second = uow.cases.list(attrs.evolve(query, after_id=first.cases[-1].id), budget=1)
            counted = uow.cases.list(attrs.evolve(query, after_id=cases[1].id, counted=True))
        assert first.cases == cases[:2]
        assert first.count == 0  # not counted
        assert [second.cases[0].id, *(d.id for d in second.deferred)] == [c.id for c in cases[2:4]]
        assert counted.count == 3

    def test_get_many_reads_cases_in_the_order_asked_leaving_out_unknown_ids(
        self, store: Store
    ) -> None:
        cases = [a_case() for _ in range(3)]
        added(store, *cases)
        asked = [cases[2].id, new_id(), cases[0].id, "not-a-uuid", cases[1].id]
        with store.unit_of_work(read_only=True) as uow:
            assert uow.cases.get_many(asked) == [cases[2], cases[0], cases[1]]
            assert uow.cases.get_many([]) == []


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

    def test_a_log_is_read_in_pages_within_the_budget_newest_first(self, store: Store) -> None:
        case = a_case()
        added(store, case)
        # Ten entries, two of them at one instant (written in this order); about 60 bytes of
        # event each, the fourth about 600.
        entries = [
            an_entry(case, T0 + timedelta(seconds=min(n, 8)), event={"n": n, "pad": "x" * 40})
            for n in range(10)
        ]
        entries[3] = attrs.evolve(entries[3], event={"n": 3, "pad": "x" * 600})
        with store.unit_of_work() as uow:
            for entry in entries:
                uow.activity.add(entry)
            uow.commit()
        with store.unit_of_work(read_only=True) as uow:
            log = uow.cases.read_with_log(case.id, 200)
            assert log is not None
            assert log.rest is not None
            pages = [log.first, *log.rest]
        newest_first = entries[::-1]
        assert log.case == case
        assert [e for page in pages for e in page] == newest_first
        # Pages of a few entries (stores measure an event a little differently), the one
        # bigger than the budget alone.
        numbers = [[e.event["n"] for e in page] for page in pages]
        assert [3] in numbers
        assert all(1 <= len(page) <= 3 for page in numbers)
        assert len(numbers) >= 4

    def test_a_log_within_the_budget_is_one_page(self, store: Store) -> None:
        case = a_case()
        added(store, case)
        entry = an_entry(case)
        with store.unit_of_work() as uow:
            uow.activity.add(entry)
            uow.commit()
        with store.unit_of_work(read_only=True) as uow:
            assert uow.cases.read_with_log(case.id, 10_000) == CaseLog(case, [entry])
            assert uow.cases.read_with_log(a_case().id, 10_000) is None

    def test_comment_edits_are_the_logs_edits_and_deletions_newest_first(
        self, store: Store
    ) -> None:
        case = a_case()
        added(store, case)
        comment = an_entry(case)
        edit = an_entry(case, T0 + timedelta(seconds=1), event_name="update-comment")
        deletion = an_entry(case, T0 + timedelta(seconds=2), event_name="delete-comment")
        with store.unit_of_work() as uow:
            for entry in (comment, edit, deletion, an_entry(a_case(), event_name="update")):
                if entry.case_id == case.id:
                    uow.activity.add(entry)
            uow.commit()
        with store.unit_of_work(read_only=True) as uow:
            assert uow.activity.comment_edits(case.id) == [deletion, edit]

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


def logged(store: Store, case: Case, count: int) -> list[ActivityEntry]:
    """``count`` entries of the case, each logged (and so published on the feed) in a unit
    of work of its own, as requests add them."""
    entries = []
    for n in range(count):
        entry = an_entry(case, T0 + timedelta(microseconds=n))
        with store.unit_of_work() as uow:
            uow.activity.add(entry)
            uow.commit()
        entries.append(entry)
    return entries


def settled_changes(store: Store, after: Position | None, count: int) -> list[Change]:
    """The first ``count`` changes after ``after``, once the store serves them all (a store
    may serve a change a moment after it commits, as PostgreSQL does)."""
    found: list[Change] = []

    def enough() -> bool:
        nonlocal found
        with store.unit_of_work(read_only=True) as uow:
            found = uow.changes.after(after, count)
        return len(found) >= count

    eventually(enough)
    return found


class TestChanges:
    def test_changes_read_back_in_the_order_added_with_their_entries(self, store: Store) -> None:
        case = a_case()
        added(store, case)
        entries = logged(store, case, 3)
        changes = settled_changes(store, None, 3)
        assert [c.entry for c in changes] == entries
        positions = [c.position for c in changes]
        assert positions == sorted(positions)
        assert len(set(positions)) == 3

    def test_reading_after_a_position_resumes_exactly_where_it_left_off(self, store: Store) -> None:
        case = a_case()
        added(store, case)
        entries = logged(store, case, 4)
        first_two = settled_changes(store, None, 2)
        rest = settled_changes(store, first_two[-1].position, 2)
        assert [c.entry for c in first_two + rest] == entries
        with store.unit_of_work(read_only=True) as uow:
            assert uow.changes.after(rest[-1].position, 10) == []

    def test_a_change_rolls_back_with_its_unit_of_work(self, store: Store) -> None:
        case = a_case()
        added(store, case)
        with store.unit_of_work() as uow:
            entry = an_entry(case)
            uow.activity.add(entry)
        (kept,) = logged(store, case, 1)
        assert [c.entry for c in settled_changes(store, None, 1)] == [kept]
        with store.unit_of_work(read_only=True) as uow:
            assert len(uow.changes.after(None, 10)) == 1

    def test_a_change_is_found_at_its_position(self, store: Store) -> None:
        case = a_case()
        added(store, case)
        (entry,) = logged(store, case, 1)
        (change,) = settled_changes(store, None, 1)
        with store.unit_of_work(read_only=True) as uow:
            assert uow.changes.at(change.position) == change
            assert change.entry == entry
            missing = Position(change.position.tx, change.position.seq + 1)
            assert uow.changes.at(missing) is None

    def test_every_change_committed_after_the_head_comes_after_it(self, store: Store) -> None:
        case = a_case()
        added(store, case)
        earlier = logged(store, case, 2)
        with store.unit_of_work(read_only=True) as uow:
            head = uow.changes.head()
        (later,) = logged(store, case, 1)

        def after_head() -> list[ActivityEntry]:
            with store.unit_of_work(read_only=True) as uow:
                return [c.entry for c in uow.changes.after(head, 10)]

        eventually(lambda: later in after_head())
        # The head may come before changes that had not settled yet; never after one.
        assert after_head()[-1] == later
        assert all(entry in [*earlier, later] for entry in after_head())


URL = "http://127.0.0.1:9/hook"
OTHER_URL = "http://127.0.0.1:9/other"


def a_webhook(url: str = URL, **changes: object) -> Webhook:
    return attrs.evolve(Webhook(url=url, events=("*",), secret="s3cret"), **changes)


def registered(store: Store, *webhooks: Webhook) -> None:
    with store.unit_of_work() as uow:
        for webhook in webhooks:
            uow.webhooks.register(webhook)
        uow.commit()


class TestWebhooks:
    def test_a_webhook_reads_back_as_registered(self, store: Store) -> None:
        webhook = a_webhook(events=("create", "status:*:done"), cursor=Position(3, 4))
        registered(store, webhook)
        with store.unit_of_work(read_only=True) as uow:
            assert uow.webhooks.get(URL) == webhook
            assert uow.webhooks.get(OTHER_URL) is None

    def test_registering_a_url_again_changes_its_events_and_secret_not_its_cursor(
        self, store: Store
    ) -> None:
        registered(store, a_webhook(cursor=Position(1, 2)))
        registered(store, a_webhook(events=("comment",), secret=None, cursor=Position(9, 9)))
        with store.unit_of_work(read_only=True) as uow:
            assert uow.webhooks.get(URL) == a_webhook(
                events=("comment",), secret=None, cursor=Position(1, 2)
            )

    def test_claiming_yields_every_webhook_and_advancing_moves_its_cursor(
        self, store: Store
    ) -> None:
        registered(store, a_webhook(OTHER_URL), a_webhook(URL))
        with store.unit_of_work() as uow:
            assert {w.url for w in uow.webhooks.claim_all()} == {URL, OTHER_URL}
            uow.webhooks.advance(URL, Position(5, 6))
            uow.commit()
        with store.unit_of_work(read_only=True) as uow:
            assert uow.webhooks.get(URL) == a_webhook(cursor=Position(5, 6))
            assert uow.webhooks.get(OTHER_URL) == a_webhook(OTHER_URL)

    def test_every_webhook_is_listed_by_url_and_one_can_be_removed(self, store: Store) -> None:
        registered(store, a_webhook(OTHER_URL), a_webhook(URL, cursor=Position(2, 3)))
        with store.unit_of_work(read_only=True) as uow:
            assert uow.webhooks.all() == [
                a_webhook(URL, cursor=Position(2, 3)),
                a_webhook(OTHER_URL),
            ]
        with store.unit_of_work() as uow:
            assert uow.webhooks.remove(URL)
            assert not uow.webhooks.remove("http://127.0.0.1:9/never")
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.webhooks.all() == [a_webhook(OTHER_URL)]
            assert uow.webhooks.get(URL) is None
            uow.webhooks.remove(OTHER_URL)  # rolled back: not committed
        with store.unit_of_work(read_only=True) as uow:
            assert uow.webhooks.all() == [a_webhook(OTHER_URL)]

    def test_an_advance_rolls_back_with_its_unit_of_work(self, store: Store) -> None:
        registered(store, a_webhook())
        with store.unit_of_work() as uow:
            uow.webhooks.advance(URL, Position(5, 6))
        with store.unit_of_work(read_only=True) as uow:
            assert uow.webhooks.get(URL) == a_webhook()


def a_delivery(case: Case, seq: int, url: str = URL, **changes: object) -> Delivery:
    delivery = Delivery(
        id=new_id(),
        webhook_url=url,
        change=Position(1, seq),
        case_id=case.id,
        event_name="comment",
        created_at=T0,
        next_attempt_at=T0,
    )
    return attrs.evolve(delivery, **changes)


def enqueued(store: Store, *deliveries: Delivery) -> None:
    with store.unit_of_work() as uow:
        uow.deliveries.enqueue(list(deliveries))
        uow.commit()


def claimed(store: Store, now: datetime, claim: str | None = None) -> Delivery | None:
    with store.unit_of_work() as uow:
        found = uow.deliveries.claim_next(now, claim or new_id(), now + timedelta(minutes=1))
        uow.commit()
    return found


def finished(store: Store, delivery: Delivery, now: datetime) -> bool:
    with store.unit_of_work() as uow:
        done = uow.deliveries.finish(delivery, now)
        uow.commit()
    return done


def deliveries_of(store: Store, case: Case) -> list[Delivery]:
    with store.unit_of_work(read_only=True) as uow:
        return uow.deliveries.for_case(case.id)


class TestDeliveries:
    @pytest.fixture
    def case(self, store: Store) -> Case:
        case = a_case()
        added(store, case)
        registered(store, a_webhook(URL), a_webhook(OTHER_URL))
        return case

    def test_a_renamed_webhook_keeps_its_place_target_and_deliveries(
        self, store: Store, case: Case
    ) -> None:
        renamed = "http://***@127.0.0.1:9/hook#0123"
        with store.unit_of_work() as uow:
            uow.webhooks.advance(URL, Position(2, 3))
            uow.commit()
        enqueued(store, a_delivery(case, 1), a_delivery(case, 2, OTHER_URL))
        with store.unit_of_work() as uow:
            uow.webhooks.rename(URL, renamed)  # rolled back: not committed
        with store.unit_of_work() as uow:
            assert uow.webhooks.get(URL) == a_webhook(cursor=Position(2, 3))
            uow.webhooks.rename(URL, renamed)
            uow.webhooks.register(a_webhook(renamed, target="sealed:v1:x"))
            uow.commit()
        with store.unit_of_work(read_only=True) as uow:
            assert uow.webhooks.get(URL) is None
            assert uow.webhooks.get(renamed) == a_webhook(
                renamed, cursor=Position(2, 3), target="sealed:v1:x"
            )
        assert sorted(d.webhook_url for d in deliveries_of(store, case)) == [renamed, OTHER_URL]

    def test_only_the_first_pending_delivery_of_a_webhook_and_case_is_due(
        self, store: Store, case: Case
    ) -> None:
        other_case = a_case()
        added(store, other_case)
        first, second = a_delivery(case, 1), a_delivery(case, 2)
        elsewhere = a_delivery(case, 2, OTHER_URL)
        enqueued(store, first, second, elsewhere)
        enqueued(store, a_delivery(case, 3), a_delivery(other_case, 4))
        due = [(d.change.seq, d.webhook_url, d.next_attempt_at) for d in deliveries_of(store, case)]
        assert due == [(1, URL, T0), (2, URL, None), (2, OTHER_URL, T0), (3, URL, None)]
        assert deliveries_of(store, case)[0] == first
        assert deliveries_of(store, other_case)[0].next_attempt_at == T0

    def test_the_case_deliveries_read_back_in_feed_order_then_by_url(
        self, store: Store, case: Case
    ) -> None:
        third, first, second = (
            a_delivery(case, 3),
            a_delivery(case, 1, OTHER_URL),
            a_delivery(case, 1),
        )
        enqueued(store, first, second)
        enqueued(store, third)
        assert [(d.change.seq, d.webhook_url) for d in deliveries_of(store, case)] == [
            (1, URL),
            (1, OTHER_URL),
            (3, URL),
        ]

    def test_a_claimed_delivery_is_not_claimed_again_until_its_claim_runs_out(
        self, store: Store, case: Case
    ) -> None:
        enqueued(store, a_delivery(case, 1))
        first = claimed(store, T0, "11111111-1111-4111-8111-111111111111")
        assert first is not None
        assert first.claim == "11111111-1111-4111-8111-111111111111"
        assert first.claimed_until == T0 + timedelta(minutes=1)
        assert claimed(store, T0 + timedelta(seconds=59)) is None
        again = claimed(store, T0 + timedelta(minutes=1))
        assert again is not None
        assert again.id == first.id
        assert again.claim != first.claim

    def test_deliveries_to_the_urls_skipped_are_not_claimed(self, store: Store, case: Case) -> None:
        enqueued(store, a_delivery(case, 1), a_delivery(case, 2, OTHER_URL))
        with store.unit_of_work() as uow:
            until = T0 + timedelta(minutes=1)
            first = uow.deliveries.claim_next(T0, new_id(), until, [URL])
            assert first is not None
            assert first.webhook_url == OTHER_URL
            assert uow.deliveries.claim_next(T0, new_id(), until, [URL, OTHER_URL]) is None
            second = uow.deliveries.claim_next(T0, new_id(), until, ())
            assert second is not None
            assert second.webhook_url == URL
            uow.commit()

    def test_cancelling_a_url_fails_its_pending_deliveries_and_keeps_the_rest(
        self, store: Store, case: Case
    ) -> None:
        enqueued(store, a_delivery(case, 1), a_delivery(case, 2), a_delivery(case, 3, OTHER_URL))
        with store.unit_of_work() as uow:
            until = T0 + timedelta(minutes=1)
            first = uow.deliveries.claim_next(T0, new_id(), until, [OTHER_URL])
            uow.commit()
        assert first is not None
        assert finished(store, attrs.evolve(first, status="delivered", attempts=1), T0)
        with store.unit_of_work() as uow:
            in_flight = uow.deliveries.claim_next(T0, new_id(), until, [OTHER_URL])
            uow.commit()
        assert in_flight is not None
        assert in_flight.change.seq == 2
        with store.unit_of_work() as uow:
            assert uow.deliveries.cancel_pending(URL, T0, "unsubscribed") == 1
            assert uow.webhooks.remove(URL)
            uow.commit()
        found = [
            (d.change.seq, d.webhook_url, d.status, d.last_error, d.claim)
            for d in deliveries_of(store, case)
        ]
        assert found == [
            (1, URL, "delivered", None, None),
            (2, URL, "failed", "unsubscribed", None),
            (3, OTHER_URL, "pending", None, None),
        ]
        # The relay sending it finds its claim gone: its outcome does not count.
        assert not finished(store, attrs.evolve(in_flight, status="delivered"), T0)

    def test_nothing_is_claimed_before_it_is_due(self, store: Store, case: Case) -> None:
        enqueued(store, a_delivery(case, 1, next_attempt_at=T0 + timedelta(seconds=5)))
        assert claimed(store, T0) is None
        assert claimed(store, T0 + timedelta(seconds=5)) is not None

    def test_finishing_a_delivery_makes_the_next_of_its_case_due(
        self, store: Store, case: Case
    ) -> None:
        enqueued(store, a_delivery(case, 1), a_delivery(case, 2))
        first = claimed(store, T0)
        assert first is not None
        assert claimed(store, T0) is None  # the second waits for the first
        later = T0 + timedelta(seconds=3)
        assert finished(store, attrs.evolve(first, status="delivered", attempts=1), later)
        second = claimed(store, later)
        assert second is not None
        assert second.change.seq == 2
        assert second.next_attempt_at == later

    def test_a_retry_keeps_the_next_of_its_case_waiting(self, store: Store, case: Case) -> None:
        enqueued(store, a_delivery(case, 1), a_delivery(case, 2))
        first = claimed(store, T0)
        assert first is not None
        retry_at = T0 + timedelta(seconds=1)
        failed_once = attrs.evolve(first, attempts=1, next_attempt_at=retry_at, last_error="500")
        assert finished(store, failed_once, T0)
        assert claimed(store, T0) is None
        again = claimed(store, retry_at)
        assert again is not None
        assert (again.id, again.attempts, again.last_error) == (first.id, 1, "500")
        assert finished(store, attrs.evolve(again, status="failed", attempts=2), retry_at)
        after_failure = claimed(store, retry_at)
        assert after_failure is not None
        assert after_failure.change.seq == 2

    def test_finishing_under_a_claim_that_was_taken_over_changes_nothing(
        self, store: Store, case: Case
    ) -> None:
        enqueued(store, a_delivery(case, 1))
        lost = claimed(store, T0)
        assert lost is not None
        taken_over = claimed(store, T0 + timedelta(minutes=2))
        assert taken_over is not None
        assert not finished(store, attrs.evolve(lost, status="delivered", attempts=1), T0)
        assert deliveries_of(store, case)[0].status == "pending"
        assert finished(store, attrs.evolve(taken_over, status="delivered", attempts=1), T0)
        (done,) = deliveries_of(store, case)
        assert (done.status, done.attempts, done.claim, done.claimed_until) == (
            "delivered",
            1,
            None,
            None,
        )
