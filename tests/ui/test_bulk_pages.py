"""Acting on many cases from the inbox, and its export links (SPEC §15, §18): the dry run's
confirmation page, the confirmed run (once, however often it is posted), the token, per-case
failures, bad input and escaping; on every store, as the pages select and list through it."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from typing import Any
from urllib.parse import urlencode

import falcon.testing
import pytest

from taskflow_core import Forbidden, HookEvent, Taskflow
from taskflow_core.application import bulk_request
from taskflow_core.ports import Store
from tests.stores import store  # noqa: F401 (the fixture, over every store)
from tests.ui.support import Browser, token_of

Fields = list[tuple[str, str]]


def only_admins(case: Any, user: Any) -> bool:
    return "admin" in (user or {}).get("roles", ())


@pytest.fixture
def flow(store: Store) -> Taskflow:  # noqa: F811
    flow = Taskflow(store)
    flow.transition("new", "submitted").transition("submitted", "granted")
    flow.transition("submitted", "refused").transition("new", "closed", guard=only_admins)
    flow.view("mine", lambda user: {"assignedTo": [user["profile"]["id"]]}, title="My cases")
    return flow


@pytest.fixture
def browser(flow: Taskflow) -> Browser:
    return Browser(flow)


def make(flow: Taskflow, title: str, status: str = "new", to: str | None = None) -> str:
    user = {"profile": {"id": "clerk"}}
    case_id: str = flow.create({"title": title}, user=user)["id"]
    if status != "new":
        flow.set_status(case_id, status, user=user)
    if to:
        flow.assign(case_id, to, user=user)
    return case_id


def post(
    browser: Browser, path: str, fields: Fields, *, token: bool = True
) -> falcon.testing.Result:
    """Post a form with repeated fields (a ticked box per row), as a browser does."""
    if token:
        fields = [("csrf_token", token_of(browser.get("/ui/").text)), *fields]
    return browser._keep(
        browser.client.simulate_post(
            path,
            body=urlencode(fields),
            headers=browser._headers({"Content-Type": "application/x-www-form-urlencoded"}),
            cookies=browser.cookies,
        )
    )


def hidden_fields(html: str) -> Fields:
    """The hidden fields of the confirmation's form, in order, as the browser sends them."""
    form = html[html.index('action="/ui/bulk/run"') :]
    form = form[: form.index("</form>")]
    return [
        (unescape(name), unescape(value))
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    ]


def activity(flow: Taskflow, case_id: str) -> int:
    return len(flow.get(case_id)["activityLog"])


def test_the_inbox_has_a_labelled_checkbox_per_row_and_the_bulk_form(
    flow: Taskflow, browser: Browser
) -> None:
    case_id = make(flow, "Fence permit")
    page = browser.get("/ui/", "status=new").text
    assert f'<input type="checkbox" id="pick-{case_id}" name="id" value="{case_id}">' in page
    assert f'<label for="pick-{case_id}" class="visually-hidden">Select Fence permit</label>' in (
        page
    )
    assert '<form id="bulk" class="bulk" method="post" action="/ui/bulk">' in page
    # The inbox's filters travel with the form, to act on them and to come back to them.
    assert '<input type="hidden" name="filters" value="status=new">' in page
    assert "Every case matching these filters (1)" in page


def test_the_dry_run_shows_the_count_and_changes_nothing(flow: Taskflow, browser: Browser) -> None:
    ids = [make(flow, f"Case {n}") for n in range(3)]
    before = [activity(flow, case_id) for case_id in ids]
    result = post(
        browser,
        "/ui/bulk",
        [("verb", "status"), ("new_status", "submitted"), ("id", ids[0]), ("id", ids[2])],
    )
    assert result.status_code == 200
    assert "This will <strong>set 2 cases to \u2018submitted\u2019</strong>" in result.text
    assert "Case 0" in result.text
    assert "Case 2" in result.text
    assert "Case 1" not in result.text
    assert [flow.get(case_id)["status"] for case_id in ids] == ["new"] * 3
    assert [activity(flow, case_id) for case_id in ids] == before
    fields = dict(hidden_fields(result.text))
    assert fields["verb"] == "status"
    assert fields["new_status"] == "submitted"
    assert len(fields["key"]) == 32


def test_cases_that_cannot_be_changed_are_named_with_why(flow: Taskflow, browser: Browser) -> None:
    ready = make(flow, "Ready one")
    ready_too = make(flow, "Ready two")
    refused = make(flow, "Already submitted", "submitted")
    result = post(
        browser,
        "/ui/bulk",
        [("verb", "status"), ("new_status", "submitted")]
        + [("id", case_id) for case_id in (ready, refused, ready_too)],
    )
    assert "set 2 cases to \u2018submitted\u2019</strong>; <strong>1 cannot be</strong>" in (
        result.text
    )
    assert "1 case cannot be changed" in result.text
    assert "submitted" in result.text
    assert "Already submitted" in result.text
    # The confirmation carries only the cases it said it would change.
    carried = [value for name, value in hidden_fields(result.text) if name == "id"]
    assert carried == [ready, ready_too]


def test_a_guard_refusing_is_said_before_anything_is_done(flow: Taskflow, browser: Browser) -> None:
    case_id = make(flow, "Shed licence")
    result = post(
        browser, "/ui/bulk", [("verb", "status"), ("new_status", "closed"), ("id", case_id)]
    )
    assert result.status_code == 200
    assert "None of the 1 case can be changed" in result.text
    assert 'action="/ui/bulk/run"' not in result.text  # no Confirm: nothing to do
    assert flow.get(case_id)["status"] == "new"


def test_confirm_acts_once_however_often_it_is_posted(flow: Taskflow, browser: Browser) -> None:
    ids = [make(flow, f"Case {n}") for n in range(2)]
    preview = post(
        browser,
        "/ui/bulk",
        [("filters", "status=new"), ("verb", "status"), ("new_status", "submitted")]
        + [("id", case_id) for case_id in ids],
    )
    confirm = hidden_fields(preview.text)
    done = post(browser, "/ui/bulk/run", confirm, token=False)
    assert done.status_code == 200
    assert "Done: set 2 cases to \u2018submitted\u2019" in done.text
    assert "2 of 2 cases changed" in done.text
    assert '<a href="/ui/?status=new">\u2190 Back to the inbox</a>' in done.text
    assert [flow.get(case_id)["status"] for case_id in ids] == ["submitted"] * 2
    after = [activity(flow, case_id) for case_id in ids]
    entry = flow.get(ids[0])["activityLog"][0]
    assert entry["changedBy"] == "alice"
    assert entry["event"]["meta"]["bulk"]
    # A double click, or a reload of the results: the same answer, nothing done twice.
    again = post(browser, "/ui/bulk/run", confirm, token=False)
    assert again.status_code == 200
    assert "nothing was changed a second time" in again.text
    assert "2 of 2 cases changed" in again.text
    assert [activity(flow, case_id) for case_id in ids] == after
    # A comment could be added twice (a status cannot be set twice): still once.
    preview = post(browser, "/ui/bulk", [("verb", "comment"), ("comment", "Seen"), ("id", ids[0])])
    confirm = hidden_fields(preview.text)
    for _ in range(3):
        assert post(browser, "/ui/bulk/run", confirm, token=False).status_code == 200
    comments = [e for e in flow.get(ids[0])["activityLog"] if e["eventName"] == "comment"]
    assert len(comments) == 1


def test_assign_to_me_nobody_and_comment(flow: Taskflow, browser: Browser) -> None:
    ids = [make(flow, f"Case {n}", to="bob") for n in range(2)]
    chosen = [("id", case_id) for case_id in ids]
    for action, check in [
        ([("verb", "assign"), ("to", "me")], lambda case: case["assignedTo"] == "alice"),
        ([("verb", "assign"), ("to", "nobody")], lambda case: case["assignedTo"] is None),
        (
            [("verb", "assign"), ("to", "someone"), ("assignee", "carol")],
            lambda case: case["assignedTo"] == "carol",
        ),
        (
            [("verb", "comment"), ("comment", "Handed over")],
            lambda case: case["activityLog"][0]["comment"] == "Handed over",
        ),
    ]:
        preview = post(browser, "/ui/bulk", action + chosen)
        assert preview.status_code == 200, preview.text
        done = post(browser, "/ui/bulk/run", hidden_fields(preview.text), token=False)
        assert done.status_code == 200
        assert all(check(flow.get(case_id)) for case_id in ids), action


def test_every_case_matching_the_filters(flow: Taskflow, browser: Browser) -> None:
    submitted = [make(flow, f"Waiting {n}", "submitted") for n in range(3)]
    other = make(flow, "Still new")
    preview = post(
        browser,
        "/ui/bulk",
        [
            ("scope", "matching"),
            ("filters", "status=submitted"),
            ("verb", "status"),
            ("new_status", "granted"),
        ],
    )
    assert "set 3 cases to \u2018granted\u2019" in preview.text
    assert "These are the cases that match the inbox's filters now." in preview.text
    carried = {value for name, value in hidden_fields(preview.text) if name == "id"}
    assert carried == set(submitted)
    # A case matching only after the confirmation page was shown is not acted on.
    late = make(flow, "Late", "submitted")
    post(browser, "/ui/bulk/run", hidden_fields(preview.text), token=False)
    assert {flow.get(case_id)["status"] for case_id in submitted} == {"granted"}
    assert flow.get(other)["status"] == "new"
    assert flow.get(late)["status"] == "submitted"


def test_the_matching_scope_keeps_the_view(flow: Taskflow, browser: Browser) -> None:
    mine = make(flow, "Mine", to="alice")
    make(flow, "Bob's", to="bob")
    preview = post(
        browser,
        "/ui/bulk",
        [("scope", "matching"), ("filters", "view=mine"), ("verb", "comment"), ("comment", "seen")],
    )
    assert [value for name, value in hidden_fields(preview.text) if name == "id"] == [mine]


def test_a_hook_refusing_one_case_is_shown_in_the_results(flow: Taskflow, browser: Browser) -> None:
    ids = [make(flow, f"Case {n}", "submitted") for n in range(3)]

    def not_the_second(event: HookEvent) -> None:
        if event.id == ids[1]:
            raise Forbidden("The second case needs a manager's sign-off")

    flow.hook("pre-status:submitted:granted", not_the_second)
    preview = post(
        browser,
        "/ui/bulk",
        [("verb", "status"), ("new_status", "granted")] + [("id", case_id) for case_id in ids],
    )
    # A dry run runs no hook: all three look changeable.
    assert "set 3 cases to \u2018granted\u2019" in preview.text
    done = post(browser, "/ui/bulk/run", hidden_fields(preview.text), token=False)
    assert done.status_code == 200
    assert "2 of 3 cases changed; <strong>1 not changed</strong>" in done.text
    assert "The second case needs a manager&#39;s sign-off" in done.text
    assert [flow.get(case_id)["status"] for case_id in ids] == ["granted", "submitted", "granted"]


def test_the_token_is_required(flow: Taskflow, browser: Browser) -> None:
    case_id = make(flow, "Fence permit")
    action = [("verb", "status"), ("new_status", "submitted"), ("id", case_id)]
    assert post(browser, "/ui/bulk", action, token=False).status_code == 403
    confirm = hidden_fields(post(browser, "/ui/bulk", action).text)
    for forged in (
        [(name, value) for name, value in confirm if name != "csrf_token"],
        [(name, "0" * 64 if name == "csrf_token" else value) for name, value in confirm],
    ):
        result = post(browser, "/ui/bulk/run", forged, token=False)
        assert result.status_code == 403
        assert "You may not do that" in result.text
    assert flow.get(case_id)["status"] == "new"
    assert activity(flow, case_id) == 1


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ([("verb", "status"), ("new_status", "submitted")], "No case was selected"),
        ([("verb", "status"), ("new_status", "submitted"), ("id", "")], "No case was selected"),
        (
            [("verb", "status"), ("verb", "comment"), ("new_status", "x"), ("comment", "y")],
            "one thing to do with the cases at a time",
        ),
        ([("new_status", "submitted")], "Choose what to do with the cases"),
        ([("verb", "status"), ("new_status", " ")], "The new status is required"),
        ([("verb", "delete")], "There is no such action"),
        ([("verb", "assign"), ("to", "someone")], "The person to assign to is required"),
        ([("verb", "comment"), ("id", "not-a-case")], "A comment is required"),
        ([("verb", "comment"), ("comment", "x"), ("id", "not-a-case")], "is not a case id"),
        ([("verb", "comment"), ("comment", "x"), ("scope", "all")], "Choose which cases"),
        ([("verb", "comment"), ("comment", "x"), ("filters", "sort=nope")], "Sort by one of"),
    ],
)
def test_bad_input_is_a_400_page_changing_nothing(
    flow: Taskflow, browser: Browser, fields: Fields, said: str
) -> None:
    case_id = make(flow, "Fence permit")
    chosen = [] if any(name in ("id", "scope") for name, _ in fields) else [("id", case_id)]
    if said == "No case was selected":
        chosen = []
    result = post(browser, "/ui/bulk", fields + chosen)
    assert result.status_code == 400, result.text
    assert said in unescape(result.text)
    assert "That request could not be used" in result.text
    assert activity(flow, case_id) == 1


def test_more_cases_than_a_batch_takes_is_a_400(
    flow: Taskflow, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk_request, "MAX_CASES", 2)
    ids = [make(flow, f"Case {n}") for n in range(3)]
    action = [("verb", "status"), ("new_status", "submitted")]
    by_ids = post(browser, "/ui/bulk", action + [("id", case_id) for case_id in ids])
    assert by_ids.status_code == 400
    assert "at most 2 cases, not 3" in by_ids.text
    by_query = post(browser, "/ui/bulk", [*action, ("scope", "matching")])
    assert by_query.status_code == 400
    assert "matches more than 2 cases" in by_query.text
    # The inbox does not offer what would be refused, and says why.
    assert "More than 2 cases match these filters" in browser.get("/ui/").text
    # The confirmation refuses as well (a page kept from before the limit was lowered).
    monkeypatch.setattr(bulk_request, "MAX_CASES", 1000)
    confirm = hidden_fields(
        post(browser, "/ui/bulk", action + [("id", case_id) for case_id in ids]).text
    )
    monkeypatch.setattr(bulk_request, "MAX_CASES", 2)
    assert post(browser, "/ui/bulk/run", confirm, token=False).status_code == 400
    assert {flow.get(case_id)["status"] for case_id in ids} == {"new"}


def test_a_confirmation_with_a_key_it_did_not_make_is_refused(
    flow: Taskflow, browser: Browser
) -> None:
    case_id = make(flow, "Fence permit")
    action = [("verb", "status"), ("new_status", "submitted"), ("id", case_id)]
    confirm = hidden_fields(post(browser, "/ui/bulk", action).text)
    for key in ("", "short", "\u00e9" * 32):
        fields = [(name, key if name == "key" else value) for name, value in confirm]
        assert post(browser, "/ui/bulk/run", fields, token=False).status_code == 400
    # The same key with another batch (a tampered page): refused, nothing done.
    other = make(flow, "Other")
    done = post(browser, "/ui/bulk/run", confirm, token=False)
    assert done.status_code == 200
    tampered = [(name, other if name == "id" else value) for name, value in confirm]
    assert post(browser, "/ui/bulk/run", tampered, token=False).status_code == 422
    assert flow.get(other)["status"] == "new"


def test_titles_are_escaped_on_the_confirmation_and_the_results(
    flow: Taskflow, browser: Browser
) -> None:
    title = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    case_id = make(flow, title)
    preview = post(
        browser, "/ui/bulk", [("verb", "comment"), ("comment", "<b>hi</b>"), ("id", case_id)]
    )
    assert "<script>" not in preview.text
    assert "<img" not in preview.text
    assert "<b>" not in preview.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in preview.text
    assert ('name="comment" value="&lt;b&gt;hi&lt;/b&gt;"') in preview.text
    done = post(browser, "/ui/bulk/run", hidden_fields(preview.text), token=False)
    assert "<script>" not in done.text
    assert "<img" not in done.text
    assert "&lt;script&gt;" in done.text
    assert flow.get(case_id)["activityLog"][0]["comment"] == "<b>hi</b>"


def test_the_export_links_keep_the_filters(flow: Taskflow, browser: Browser) -> None:
    make(flow, "Fence, north side", "submitted")
    make(flow, "=HYPERLINK(1)", "submitted", to="alice")
    make(flow, "Still new")
    page = browser.get("/ui/", "status=submitted&sort=createdAt&page=1").text
    assert 'href="/ui/export.csv?status=submitted"' in page
    assert 'href="/ui/export.ndjson?status=submitted"' in page
    assert "Export these 2 cases" in page
    assert "Export this case:" in browser.get("/ui/", "status=new").text
    result = browser.get("/ui/export.csv", "status=submitted")
    assert result.status_code == 200
    assert result.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="cases-\d{8}T\d{6}Z\.csv"', result.headers["content-disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(result.text)))
    assert sorted(row["data.title"] for row in rows) == ["'=HYPERLINK(1)", "Fence, north side"]
    assert {row["status"] for row in rows} == {"submitted"}
    lines = browser.get("/ui/export.ndjson", "status=submitted&assignee=alice").text.splitlines()
    assert [json.loads(line)["data"]["title"] for line in lines] == ["=HYPERLINK(1)"]
    # A view is the user's: the pages' user, not a bearer token.
    mine = browser.get("/ui/export.ndjson", "view=mine").text.splitlines()
    assert [json.loads(line)["assignedTo"] for line in mine] == ["alice"]


def test_the_export_sees_only_what_the_user_may(flow: Taskflow) -> None:
    make(flow, "Alice's", to="alice")
    make(flow, "Bob's", to="bob")
    flow.access(
        read=lambda user, case: case["assignedTo"] == user["profile"]["id"],
        scope=lambda user: {"assignedTo": [user["profile"]["id"]]},
    )
    lines = Browser(flow, user="alice").get("/ui/export.ndjson").text.splitlines()
    assert [json.loads(line)["data"]["title"] for line in lines] == ["Alice's"]


def test_a_bad_export_filter_is_a_400_page(browser: Browser) -> None:
    for query in ("sort=nope", "view=nope"):
        result = browser.get("/ui/export.csv", query)
        assert result.status_code == 400, query
        assert result.headers["content-type"].startswith("text/html")


def test_filters_matching_nothing_offer_nothing_to_confirm(
    flow: Taskflow, browser: Browser
) -> None:
    case_id = make(flow, "Fence permit")
    fields = [("scope", "matching"), ("filters", "status=granted"), ("verb", "comment")]
    result = post(browser, "/ui/bulk", [*fields, ("comment", "x")])
    assert result.status_code == 200
    assert "No cases to change" in result.text
    assert 'action="/ui/bulk/run"' not in result.text
    assert activity(flow, case_id) == 1
