"""The case browser's pages through falcon's test client (SPEC §15): the inbox's filters and
tabs, the case page's forms, the stale form, the token against cross-site posts, escaping,
the headers and the error pages. On every store: the pages list and count through it."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest

from taskflow_core import Forbidden, Taskflow
from taskflow_core.ports import Store
from tests.stores import store  # noqa: F401 (the fixture, over every store)
from tests.ui.support import Browser, token_of, version_of


@pytest.fixture
def flow(store: Store) -> Taskflow:  # noqa: F811
    flow = Taskflow(store)
    flow.transition("new", "submitted").transition("submitted", "granted")
    flow.transition("submitted", "refused").transition("submitted", "new")
    flow.deadline("decision", within=timedelta(days=10), starts=["submitted"])

    def mine(user: Any) -> dict[str, Any]:
        if user is None:
            raise Forbidden("Sign in to see your cases")
        return {"assignedTo": [user["profile"]["id"]]}

    flow.view("mine", mine, title="My cases")
    flow.view("waiting", {"status": ["submitted"], "unassigned": True}, title="Waiting")
    return flow


@pytest.fixture
def browser(flow: Taskflow) -> Browser:
    return Browser(flow)


def make(flow: Taskflow, data: dict[str, Any], status: str = "new", to: str | None = None) -> str:
    user = {"profile": {"id": "clerk"}}
    case_id: str = flow.create(data, user=user)["id"]
    if status != "new":
        flow.set_status(case_id, status, user=user)
    if to:
        flow.assign(case_id, to, user=user)
    return case_id


def titles(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="title"><a href="[^"]+">([^<]*)</a>', html)


def test_the_inbox_lists_cases_with_their_titles_and_tabs(flow: Taskflow, browser: Browser) -> None:
    make(flow, {"title": "Fence permit"}, "submitted")
    make(flow, {"subject": "Noise complaint"}, "submitted", to="alice")
    nameless = make(flow, {"other": 1})
    page = browser.get("/ui/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert sorted(titles(page.text)) == sorted(["Fence permit", "Noise complaint", nameless])
    # A tab per view, with its count for this user, and "All cases".
    assert re.search(r"My cases <span class=\"count\">1</span>", page.text)
    assert re.search(r"Waiting <span class=\"count\">1</span>", page.text)
    assert "All cases" in page.text
    assert "<title>Inbox · Taskflow</title>" in page.text
    # The running deadline of the submitted cases.
    assert page.text.count("decision, due") == 2


def test_filters_live_in_the_url(flow: Taskflow, browser: Browser) -> None:
    make(flow, {"title": "Fence permit", "street": "Elm"}, "submitted")
    make(flow, {"title": "Noise complaint"}, "submitted", to="alice")
    make(flow, {"title": "Shed licence"}, to="bob")
    assert titles(browser.get("/ui/", "status=submitted").text) == [
        "Noise complaint",
        "Fence permit",
    ]
    assert titles(browser.get("/ui/", "assignee=bob").text) == ["Shed licence"]
    assert titles(browser.get("/ui/", "unassigned=1").text) == ["Fence permit"]
    assert titles(browser.get("/ui/", "q=elm").text) == ["Fence permit"]
    assert titles(browser.get("/ui/", "view=mine").text) == ["Noise complaint"]
    assert titles(browser.get("/ui/", "view=waiting").text) == ["Fence permit"]
    assert titles(browser.get("/ui/", "sort=updatedAt&order=asc").text)[0] == "Fence permit"
    # The form shows the filters it applied, so the page reads as the URL says.
    page = browser.get("/ui/", "q=elm&status=submitted").text
    assert 'value="elm"' in page
    assert '<option value="submitted" selected>' in page


def test_the_inbox_pages_through_many_cases(flow: Taskflow, browser: Browser) -> None:
    for number in range(53):
        make(flow, {"title": f"case {number:02d}"})
    first = browser.get("/ui/", "sort=createdAt&order=asc").text
    assert len(titles(first)) == 50
    assert "Showing 1\N{EN DASH}50 of 53 cases" in first
    assert 'rel="next" href="/ui/?sort=createdAt&amp;order=asc&amp;page=2"' in first
    second = browser.get("/ui/", "sort=createdAt&order=asc&page=2").text
    assert titles(second) == ["case 50", "case 51", "case 52"]
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second


def test_an_overdue_deadline_is_said_in_words(store: Store) -> None:  # noqa: F811
    now = [datetime(2026, 1, 5, 10, tzinfo=UTC)]
    flow = Taskflow(store, clock=lambda: now[0])
    flow.transition("new", "submitted")
    flow.deadline("decision", within=timedelta(days=1), starts=["submitted"])
    make(flow, {"title": "Late one"}, "submitted")
    now[0] += timedelta(days=3)
    flow.run_due_timers()
    page = Browser(flow).get("/ui/").text
    assert "<strong>Overdue:</strong> decision" in page


def test_the_title_function_names_the_rows(flow: Taskflow, browser: Browser) -> None:
    case_id = make(flow, {"ref": "A-17", "title": "ignored"})
    flow.title(lambda case: f"Application {case['data']['ref']}")
    assert titles(browser.get("/ui/").text) == ["Application A-17"]
    assert "<h1>Application A-17</h1>" in browser.get(f"/ui/cases/{case_id}").text


def test_the_case_page_shows_data_deadlines_and_timeline(flow: Taskflow, browser: Browser) -> None:
    case_id = make(
        flow,
        {
            "title": "Fence permit",
            "applicant": {"name": "Ada", "address": {"town": "Leeds"}},
            "items": [{"kind": "fence", "metres": 12}, {"kind": "gate", "metres": 1}],
            "tags": ["garden", "front"],
        },
        "submitted",
    )
    user = {"profile": {"id": "alice"}}
    flow.comment(case_id, "first look", user=user)
    edited = flow.comment(case_id, "typo hree", user=user)
    comment_id = next(e["id"] for e in edited["activityLog"] if e["eventName"] == "comment")
    flow.update_comment(case_id, comment_id, "typo here", user=user)
    gone = flow.comment(case_id, "wrong case", user=user)
    gone_id = next(e["id"] for e in gone["activityLog"] if e["eventName"] == "comment")
    flow.delete_comment(case_id, gone_id, user=user)
    page = browser.get(f"/ui/cases/{case_id}").text
    assert "<title>Fence permit (submitted) · Taskflow</title>" in page
    # Nested data as nested definition lists and a table, not JSON.
    assert "<dt>applicant</dt>" in page
    assert "<dt>town</dt><dd>Leeds" in page.replace("\n", "")
    assert '<th scope="col">metres</th>' in page
    assert "{&#34;" not in page
    assert '{"' not in page
    # Deadlines with their actions.
    assert "<h3>decision</h3>" in page
    assert "Extend decision" in page
    assert "Remove decision" in page
    # The timeline, newest first, comments set apart, edited and deleted said.
    deleted = page.index("This comment was deleted.")
    edited_at = page.index("typo here")
    first = page.index("first look")
    created = page.index("Case created")
    assert deleted < edited_at < first < created
    assert "<em>edited</em>" in page
    assert "wrong case" not in page
    assert page.count('<li class="comment') == 3
    # One button per next status.
    assert re.findall(r'name="status" value="([a-z-]+)"', page) == ["granted", "new", "refused"]


def test_a_comment_and_a_status_change_through_the_forms(flow: Taskflow, browser: Browser) -> None:
    case_id = make(flow, {"title": "Fence permit"}, "submitted")
    result = browser.submit(case_id, "comment", {"comment": "Looks fine to me"})
    assert result.status_code == 303
    assert result.headers["location"].endswith(f"/ui/cases/{case_id}?done=comment")
    page = browser.get(f"/ui/cases/{case_id}").text
    assert "Looks fine to me" in page
    result = browser.submit(case_id, "status", {"status": "granted"})
    assert result.status_code == 303
    case = flow.get(case_id)
    assert case["status"] == "granted"
    assert [e["changedBy"] for e in case["activityLog"][:2]] == ["alice", "alice"]
    assert "The status was changed." in browser.get(f"/ui/cases/{case_id}", "done=status").text


def test_assign_to_me_to_someone_and_to_nobody(flow: Taskflow, browser: Browser) -> None:
    case_id = make(flow, {"title": "Fence permit"})
    assert browser.submit(case_id, "assign", {"to": "me"}).status_code == 303
    assert flow.get(case_id)["assignedTo"] == "alice"
    assert (
        browser.submit(case_id, "assign", {"to": "someone", "assignee": "bob"}).status_code == 303
    )
    assert flow.get(case_id)["assignedTo"] == "bob"
    assert browser.submit(case_id, "assign", {"to": "nobody"}).status_code == 303
    assert flow.get(case_id)["assignedTo"] is None


def test_deadline_actions_through_the_forms(flow: Taskflow, browser: Browser) -> None:
    case_id = make(flow, {"title": "Fence permit"}, "submitted")
    due = flow.get(case_id)["deadlines"][0]["due"]
    fields = {"name": "decision", "action": "extend", "amount": "3", "unit": "days"}
    assert browser.submit(case_id, "deadline", {**fields, "reason": "asked"}).status_code == 303
    assert flow.get(case_id)["deadlines"][0]["due"] > due
    removal = {"name": "decision", "action": "remove", "reason": "not needed"}
    assert browser.submit(case_id, "deadline", removal).status_code == 303
    page = browser.get(f"/ui/cases/{case_id}").text
    assert "Reinstate decision" in page
    assert "(reason: not needed)" in page
    # No reason: 400, the page says what is missing, nothing changes.
    before = flow.get(case_id)["version"]
    refused = browser.submit(case_id, "deadline", {"name": "decision", "action": "reinstate"})
    assert refused.status_code == 400
    assert "A reason is required" in refused.text
    assert flow.get(case_id)["version"] == before


def test_a_stale_form_changes_nothing_and_says_so(flow: Taskflow, browser: Browser) -> None:
    case_id = make(flow, {"title": "Fence permit"}, "submitted")
    opened = browser.get(f"/ui/cases/{case_id}").text
    # Someone else acts meanwhile.
    flow.set_status(case_id, "refused", user={"profile": {"id": "bob"}})
    before = flow.get(case_id)
    for action, fields in [
        ("comment", {"comment": "my late note"}),
        ("status", {"status": "granted"}),
        ("assign", {"to": "me"}),
    ]:
        result = browser.submit(case_id, action, fields, page=opened)
        assert result.status_code == 409, action
        assert "changed by someone else" in result.text
        # The page shows the case as it is now, with forms carrying the new version.
        assert version_of(result.text) == str(before["version"])
        assert "Status changed from submitted to refused" in result.text
    assert (
        "my late note</textarea>"
        in browser.submit(case_id, "comment", {"comment": "my late note"}, page=opened).text
    )
    assert flow.get(case_id) == before


def test_a_change_the_workflow_refuses_is_a_409_page(flow: Taskflow, browser: Browser) -> None:
    case_id = make(flow, {"title": "Fence permit"})
    result = browser.submit(case_id, "status", {"status": "granted"})
    assert result.status_code == 409
    assert "Your change was not made" in result.text
    assert flow.get(case_id)["status"] == "new"


def test_a_post_without_the_token_is_refused(flow: Taskflow, browser: Browser) -> None:
    case_id = make(flow, {"title": "Fence permit"})
    page = browser.get(f"/ui/cases/{case_id}").text
    version = version_of(page)
    path = f"/ui/cases/{case_id}/comment"
    attempts = [
        # No token at all (another site's form).
        ({"version": version, "comment": "x"}, None),
        # The right token without the cookie (SameSite keeps it from a cross-site post).
        ({"version": version, "comment": "x", "csrf_token": token_of(page)}, {}),
        # A made-up token with the browser's cookie.
        ({"version": version, "comment": "x", "csrf_token": "0" * 64}, None),
    ]
    for fields, cookies in attempts:
        result = browser.post(path, fields, cookies=cookies)
        assert result.status_code == 403
        assert result.headers["content-type"].startswith("text/html")
        assert "You may not do that" in result.text
    # A token signed under another secret (another deployment) is refused too.
    other = Browser(flow, ui_secret=b"another secret, also 16 bytes+")
    other.cookies = dict(browser.cookies)
    result = other.post(path, {"version": version, "comment": "x", "csrf_token": token_of(page)})
    assert result.status_code == 403
    assert len(flow.get(case_id)["activityLog"]) == 1


def test_the_cookie_is_same_site_and_http_only(browser: Browser) -> None:
    result = browser.get("/ui/")
    cookie = result.cookies["taskflow_csrf"]
    assert cookie.same_site == "Lax"
    assert cookie.http_only
    assert cookie.path == "/ui"


def test_script_in_data_is_shown_as_text(flow: Taskflow, browser: Browser) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    case_id = make(flow, {"title": evil, evil: {"k": evil}, "list": [evil]}, to=evil)
    flow.comment(case_id, evil, user={"profile": {"id": "alice"}})
    for path, query in [
        ("/ui/", ""),
        (f"/ui/cases/{case_id}", ""),
        ("/ui/", "q=" + "%3Cscript%3E"),
        ("/ui/", "assignee=" + "%3Cscript%3E"),
    ]:
        html = browser.get(path, query).text
        assert "<script" not in html
        assert "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in browser.get("/ui/").text


def test_every_page_carries_the_security_headers(flow: Taskflow, browser: Browser) -> None:
    case_id = make(flow, {"title": "Fence permit"})
    for path in ["/ui/", f"/ui/cases/{case_id}", "/ui/workflow", "/ui/cases/nope", "/ui/nope"]:
        headers = browser.get(path).headers
        policy = headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "script-src 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_error_pages_a_person_understands(flow: Taskflow, browser: Browser) -> None:
    missing = browser.get("/ui/cases/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert "<h1>Page not found</h1>" in missing.text
    assert "<title>Page not found (404) · Taskflow</title>" in missing.text
    assert browser.get("/ui/no/such/page").status_code == 404
    bad = browser.get("/ui/", "page=zero")
    assert bad.status_code == 400
    assert "That request could not be used" in bad.text
    assert browser.get("/ui/", "view=nothing").status_code == 400
    # A view that needs a user, for nobody: the view's 403, as a page.
    anonymous = Browser(flow, user=None)
    forbidden = anonymous.get("/ui/", "view=mine")
    assert forbidden.status_code == 403
    assert "Sign in to see your cases" in forbidden.text
    # An action that is not one.
    case_id = make(flow, {"title": "x"})
    assert browser.submit(case_id, "explode", {}).status_code == 404
    # The API keeps its JSON errors.
    api = browser.client.simulate_get("/00000000-0000-4000-8000-000000000000")
    assert api.status_code == 404
    assert api.json == {"message": "Case not found"}


def test_a_hook_failing_is_a_500_page(flow: Taskflow, browser: Browser) -> None:
    case_id = make(flow, {"title": "x"})

    def broken(event: Any) -> None:
        raise RuntimeError("select * from secrets")

    flow.hook("comment", broken)
    result = browser.submit(case_id, "comment", {"comment": "hello"})
    assert result.status_code == 500
    assert "Something went wrong on our side" in result.text
    assert "secrets" not in result.text


def test_the_workflow_page_draws_each_status_with_its_count(
    flow: Taskflow, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    make(flow, {"title": "a"}, "submitted")
    make(flow, {"title": "b"}, "submitted")
    make(flow, {"title": "c"})
    # Our own drawing (no Graphviz on the path).
    monkeypatch.setattr("taskflow_falcon.ui.diagram.shutil.which", lambda name: None)
    page = browser.get("/ui/workflow").text
    assert "<svg" in page
    for status in ["new", "submitted", "granted", "refused"]:
        assert f">{status}</text>" in page
    assert ">2 cases</text>" in page
    assert ">1 case</text>" in page
    assert '<th scope="row"><a href="/ui/?status=submitted">submitted</a></th><td>2</td>' in page


def test_without_a_workflow_the_status_is_free_text(store: Store) -> None:  # noqa: F811
    flow = Taskflow(store)
    case_id = make(flow, {"title": "Free"})
    browser = Browser(flow)
    page = browser.get(f"/ui/cases/{case_id}").text
    assert '<input id="new-status" name="status"' in page
    assert browser.submit(case_id, "status", {"status": "whatever"}).status_code == 303
    assert flow.get(case_id)["status"] == "whatever"
    assert "No workflow is declared" in browser.get("/ui/workflow").text
    # No views: one "All cases" tab with the count.
    assert 'All cases <span class="count">1</span>' in browser.get("/ui/").text


def test_ui_false_leaves_the_pages_out(flow: Taskflow) -> None:
    browser = Browser(flow, ui=False)
    result = browser.get("/ui/")
    assert result.status_code == 404
    assert result.json == {"message": "Case not found"}
    assert browser.get("/ui/static/ui.css").status_code == 404


def test_the_stylesheet_is_served_by_the_app(browser: Browser) -> None:
    result = browser.get("/ui/static/ui.css")
    assert result.status_code == 200
    assert result.headers["content-type"] == "text/css; charset=utf-8"
    assert ".cases" in result.text
    assert browser.get("/ui/static/../pages.py").status_code == 404


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_the_workflow_page_uses_graphviz_when_present(flow: Taskflow, browser: Browser) -> None:
    make(flow, {"title": "a"}, "submitted")
    page = browser.get("/ui/workflow").text
    assert '<g id="graph0" class="graph"' in page
    assert "<?xml" not in page
    assert "<title>" not in page.split("<svg", 1)[1]
    assert ">1 case</text>" in page


def test_a_method_the_pages_do_not_take_is_a_405_page(browser: Browser) -> None:
    result = browser.client.simulate_delete("/ui/", headers={"X-User": "alice"})
    assert result.status_code == 405
    assert result.headers["content-type"].startswith("text/html")
    assert "That cannot be done here" in result.text
    assert "GET" in result.headers["allow"]


def test_a_form_too_large_is_a_413_page(flow: Taskflow) -> None:
    browser = Browser(flow, max_body_size=1024)
    case_id = make(flow, {"title": "x"})
    result = browser.submit(case_id, "comment", {"comment": "x" * 2000})
    assert result.status_code == 413
    assert "That was too much to send" in result.text
    assert len(flow.get(case_id)["activityLog"]) == 1


def test_a_decorator_hiding_fields_leaves_the_pages_working(
    flow: Taskflow, browser: Browser
) -> None:
    case_id = make(flow, {"title": "Secret", "salary": 100})

    def hide(case: dict[str, Any], user: Any) -> dict[str, Any]:
        return {key: value for key, value in case.items() if key not in ("data", "status")}

    flow.decorate(hide)
    page = browser.get(f"/ui/cases/{case_id}")
    assert page.status_code == 200
    assert "salary" not in page.text
    assert browser.get("/ui/").status_code == 200


def test_a_post_that_is_not_a_form_is_refused_before_it_is_read(
    flow: Taskflow, browser: Browser
) -> None:
    case_id = make(flow, {"title": "x"})
    browser.get("/ui/")  # the cookie
    for content_type, body in [
        ("application/x-www-form-urlencoded", b"\xff\xfe"),
        ("application/json", b'{"comment": "x"}'),
    ]:
        result = browser.client.simulate_post(
            f"/ui/cases/{case_id}/comment",
            body=body,
            headers={"Content-Type": content_type, "X-User": "alice"},
            cookies=browser.cookies,
        )
        assert result.status_code == 403
    assert len(flow.get(case_id)["activityLog"]) == 1


class _Controls(HTMLParser):
    """The form controls of a page that a person fills in, and the labels' targets."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self.headings: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.controls.append(found)
        if tag == "label" and found.get("for"):
            self.labelled.add(str(found["for"]))
        if tag in ("h1", "h2", "h3"):
            self.headings.append(tag)


def test_every_control_has_a_label_and_each_page_one_h1(flow: Taskflow, browser: Browser) -> None:
    case_id = make(flow, {"title": "Fence permit"}, "submitted")
    removed = make(flow, {"title": "Shed"}, "submitted")
    flow.remove_deadline(removed, "decision", reason="no")
    for path in ["/ui/", f"/ui/cases/{case_id}", f"/ui/cases/{removed}", "/ui/workflow"]:
        parser = _Controls()
        parser.feed(browser.get(path).text)
        for control in parser.controls:
            assert control.get("id") in parser.labelled, (path, control)
        assert parser.headings.count("h1") == 1, path
        assert parser.headings[0] == "h1", path
