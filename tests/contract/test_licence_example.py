"""The worked example of docs/workflow.md, run on every store: the page shows this code."""

import copy
from pathlib import Path
from typing import Any

import pytest

from docs.examples import licence
from docs.examples.licence import SYSTEM, configure, expire
from taskflow_core import Conflict, Forbidden, HookEvent, InvalidRequest, Taskflow

DOCS = Path(__file__).resolve().parents[2] / "docs"

APPLICANT = {"profile": {"id": "ada"}, "roles": ["applicant"]}
OFFICER = {"profile": {"id": "olga"}, "roles": ["officer"]}


@pytest.fixture
def licences(flow: Taskflow) -> Taskflow:
    return configure(flow)


@pytest.fixture
def submitted(licences: Taskflow) -> dict[str, Any]:
    case = licences.create({"kind": "dog", "feePaid": True}, user=APPLICANT)
    return licences.set_status(case["id"], "submitted", user=APPLICANT)


def test_the_page_shows_the_example_code_as_it_is() -> None:
    source = Path(licence.__file__).read_text()
    code = source.split('"""', 2)[2].strip()  # all but the module docstring

    assert code in (DOCS / "workflow.md").read_text()


def test_a_new_application_can_be_submitted_or_withdrawn(licences: Taskflow) -> None:
    case = licences.create({"kind": "dog"}, user=APPLICANT)

    assert case["nextStatuses"] == ["submitted", "withdrawn"]


def test_only_an_officer_is_offered_approval(licences: Taskflow, submitted: dict[str, Any]) -> None:
    assert submitted["nextStatuses"] == ["rejected", "returned", "withdrawn"]
    assert licences.get(submitted["id"], user=OFFICER)["nextStatuses"] == [
        "approved",
        "rejected",
        "returned",
        "withdrawn",
    ]
    with pytest.raises(Forbidden):
        licences.set_status(submitted["id"], "approved", user=APPLICANT)


def test_an_officer_approves_once_the_fee_is_paid(licences: Taskflow) -> None:
    case = licences.create({"kind": "dog"}, user=APPLICANT)
    licences.set_status(case["id"], "submitted", user=APPLICANT)

    with pytest.raises(InvalidRequest) as unpaid:
        licences.set_status(case["id"], "approved", user=OFFICER)
    assert unpaid.value.errors == {"feePaid": "required"}

    licences.update(case["id"], {"feePaid": True}, user=APPLICANT)
    approved = licences.set_status(case["id"], "approved", user=OFFICER)
    assert approved["status"] == "approved"
    assert approved["nextStatuses"] == ["withdrawn"]


def test_a_returned_application_goes_back_in_by_submitting_again(
    licences: Taskflow, submitted: dict[str, Any]
) -> None:
    returned = licences.set_status(submitted["id"], "returned", user=OFFICER)
    assert returned["nextStatuses"] == ["submitted", "withdrawn"]

    again = licences.set_status(submitted["id"], "submitted", user=APPLICANT)
    assert [e["eventName"] for e in again["activityLog"]][:3] == [
        "status:returned:submitted",
        "status:submitted:returned",
        "status:new:submitted",
    ]


def test_an_application_can_be_withdrawn_from_any_status(
    licences: Taskflow, submitted: dict[str, Any]
) -> None:
    licences.set_status(submitted["id"], "approved", user=OFFICER)

    assert licences.set_status(submitted["id"], "withdrawn", user=APPLICANT)["status"] == (
        "withdrawn"
    )


def test_a_rejected_application_cannot_be_approved(
    licences: Taskflow, submitted: dict[str, Any]
) -> None:
    licences.set_status(submitted["id"], "rejected", user=OFFICER)

    with pytest.raises(Conflict) as refused:
        licences.set_status(submitted["id"], "approved", user=OFFICER)
    assert refused.value.errors == {"status": ["withdrawn"]}


def test_only_the_system_job_lets_a_licence_expire(
    licences: Taskflow, submitted: dict[str, Any]
) -> None:
    licences.set_status(submitted["id"], "approved", user=OFFICER)

    for person in (OFFICER, copy.deepcopy(SYSTEM), None):
        with pytest.raises(Forbidden):
            licences.set_status(submitted["id"], "expired", user=person)
    assert "expired" not in licences.get(submitted["id"], user=OFFICER)["nextStatuses"]

    expired = expire(licences, submitted["id"])
    assert expired["status"] == "expired"
    assert expired["activityLog"][0]["changedBy"] == "system"


def test_a_hook_is_checked_with_the_user_of_its_request(
    licences: Taskflow, submitted: dict[str, Any]
) -> None:
    licences.hook("status:submitted:approved", lambda e: e.set_status("expired"))

    with pytest.raises(Forbidden):
        licences.set_status(submitted["id"], "approved", user=OFFICER)
    assert licences.get(submitted["id"])["status"] == "submitted"


def test_a_hook_makes_a_system_change_after_its_request_commits(
    licences: Taskflow, submitted: dict[str, Any]
) -> None:
    # The pattern docs/workflow.md shows for a follow-up made as the system.
    def expire_trial_licences(event: HookEvent) -> None:
        if (event.data or {}).get("trial"):
            event.on_settled(lambda: licences.set_status(event.id, "expired", user=SYSTEM))

    licences.hook("status:submitted:approved", expire_trial_licences)
    licences.update(submitted["id"], {"trial": True}, user=APPLICANT)

    approved = licences.set_status(submitted["id"], "approved", user=OFFICER)

    assert approved["status"] == "approved"  # the answer of the approval itself
    after = licences.get(submitted["id"])
    assert after["status"] == "expired"
    assert [(e["eventName"], e["changedBy"]) for e in after["activityLog"]][:2] == [
        ("status:approved:expired", "system"),
        ("status:submitted:approved", "olga"),
    ]
