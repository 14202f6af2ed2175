"""The storage port alone, without the service: what a custom store's unit of work and
repositories must do. A store author runs this first, then the rest of the contract suite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from taskflow_core.errors import Conflict, NotFound
from taskflow_core.model import ActivityEntry, Case, new_id
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
        case = a_case(assigned_to="bob", updated_at=T0 + timedelta(microseconds=1))
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

    def test_save_persists_status_data_assignee_and_updated_at(self, store: Store) -> None:
        case = a_case()
        added(store, case)
        changed = attrs.evolve(
            case,
            status="open",
            data={"other": True},
            assigned_to="carol",
            updated_at=T0 + timedelta(days=1),
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
