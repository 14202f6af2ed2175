"""The case browser in a real browser (SPEC §15): Debian's Chromium, JavaScript turned off,
against the app served by a WSGI server on a thread. Screenshots of every page go to
test-screenshots/; the README's two to docs/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import falcon
import pytest

from taskflow_core import BusinessDays, Taskflow
from taskflow_core.ports import Store
from taskflow_falcon import create_app
from tests.ui.browsing import click_and_wait, screenshot, serve_wsgi, start_chromium
from tests.ui.support import SECRET, HeaderAuth

By: Any = None


class SignedIn:
    """The host's sign-in, for a browser that cannot send headers: every request is Alice's
    (the OIDC sign-in of the pages sets the user from a session cookie the same way)."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.user = {"profile": {"id": "alice"}, "name": "Alice"}


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    global By
    browser = start_chromium(javascript=False)
    from selenium.webdriver.common.by import By as by

    By = by
    try:
        yield browser
    finally:
        browser.quit()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def flow(sqlite_store: Store, clock: Clock) -> Taskflow:
    flow = Taskflow(sqlite_store, clock=clock)
    flow.transition("new", "submitted")
    flow.transition("submitted", "in-review").transition("in-review", "returned")
    flow.transition("returned", "submitted")
    flow.transition("in-review", "granted").transition("in-review", "refused")
    flow.deadline(
        "decision",
        within=BusinessDays(10),
        starts=["submitted"],
        pauses=["returned"],
        stops=["granted", "refused"],
    )
    flow.view("mine", lambda user: {"assignedTo": [user["profile"]["id"]]}, title="My cases")
    flow.view("waiting", {"status": ["submitted"], "unassigned": True}, title="Waiting")
    flow.view("review", {"status": ["in-review"]}, title="In review")
    flow.title(lambda case: f"{case['data'].get('kind', 'Case')}: {case['data']['applicant']}")
    return flow


@pytest.fixture
def site(flow: Taskflow) -> Iterator[str]:
    app = create_app(flow, middleware=[SignedIn()], ui_secret=SECRET)
    with serve_wsgi(app) as url:
        yield url


CASES = [
    ("Premises licence", "Ada Lovelace", "in-review", "alice", 12),
    ("Street trading", "Alan Turing", "submitted", None, 10),
    ("Taxi driver licence", "Grace Hopper", "submitted", "alice", 8),
    ("Premises licence", "Edsger Dijkstra", "returned", "bob", 6),
    ("Scaffolding permit", "Barbara Liskov", "granted", "carol", 4),
    ("Pavement café", "Donald Knuth", "new", None, 2),
    ("Skip permit", "Margaret Hamilton", "submitted", "bob", 1),
]


def seed(flow: Taskflow, clock: Clock) -> dict[str, str]:
    """Cases a licensing team would have: the first one overdue, with a conversation."""
    clerk = {"profile": {"id": "clerk"}}
    made = {}
    path = {
        "new": [],
        "submitted": ["submitted"],
        "in-review": ["submitted", "in-review"],
        "returned": ["submitted", "in-review", "returned"],
        "granted": ["submitted", "in-review", "granted"],
    }
    for kind, applicant, status, assignee, days_ago in CASES:
        clock.now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC) - timedelta(days=days_ago * 2)
        data: dict[str, Any] = {
            "kind": kind,
            "applicant": applicant,
            "address": {"street": "12 Market Street", "town": "Leeds", "postcode": "LS1 4AB"},
            "contact": {"email": applicant.split()[0].lower() + "@example.org"},
            "items": [
                {"description": "Opening hours", "value": "Mon-Sat 10:00-23:00"},
                {"description": "Capacity", "value": 120},
            ],
            "fee paid": True,
        }
        case_id = flow.create(data, user=clerk)["id"]
        for step in path[status]:
            flow.set_status(case_id, step, user=clerk)
        if assignee:
            flow.assign(case_id, assignee, user=clerk)
        made[applicant] = case_id
    ada = made["Ada Lovelace"]
    flow.comment(ada, "Plan of the premises received; checking the fire exits.", user=clerk)
    flow.comment(ada, "Fire officer visit booked for Thursday.", user={"profile": {"id": "alice"}})
    clock.now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    flow.run_due_timers()
    return made


def test_the_inbox_lists_and_filters(driver: Any, site: str, flow: Taskflow, clock: Clock) -> None:
    seed(flow, clock)
    driver.set_window_size(1280, 900)
    driver.get(site + "/ui/")
    assert driver.title == "Inbox · Taskflow"
    rows = driver.find_elements(By.CSS_SELECTOR, "table.cases tbody tr")
    assert len(rows) == len(CASES)
    assert "Overdue" in driver.find_element(By.CSS_SELECTOR, "table.cases").text
    screenshot(driver, "inbox", readme=True)
    # Filter by typing and choosing, then the form's button: no script involved.
    driver.find_element(By.ID, "q").send_keys("premises")
    driver.find_element(By.CSS_SELECTOR, "#status option[value='in-review']").click()
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]"))
    assert "q=premises" in driver.current_url
    assert "status=in-review" in driver.current_url
    titles = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "table.cases th.title")]
    assert titles == ["Premises licence: Ada Lovelace"]
    screenshot(driver, "inbox-filtered")
    # A view's tab, with its count.
    driver.get(site + "/ui/")
    tab = driver.find_element(By.PARTIAL_LINK_TEXT, "Waiting")
    assert tab.text.endswith("1")
    click_and_wait(driver, tab)
    assert "view=waiting" in driver.current_url
    titles = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "table.cases th.title")]
    assert titles == ["Street trading: Alan Turing"]
    # A phone's width.
    driver.set_window_size(390, 844)
    driver.get(site + "/ui/")
    screenshot(driver, "inbox-phone")
    driver.set_window_size(1280, 900)


def test_a_comment_and_a_status_change_through_the_forms(
    driver: Any, site: str, flow: Taskflow, clock: Clock
) -> None:
    made = seed(flow, clock)
    case_id = made["Ada Lovelace"]
    driver.set_window_size(1280, 900)
    driver.get(site + "/ui/")
    click_and_wait(driver, driver.find_element(By.LINK_TEXT, "Premises licence: Ada Lovelace"))
    assert driver.title == "Premises licence: Ada Lovelace (in-review) · Taskflow"
    screenshot(driver, "case", readme=True)
    driver.find_element(By.ID, "comment").send_keys("Fire exits are fine. Granting.")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.comment-form button"))
    assert driver.current_url.endswith(f"/ui/cases/{case_id}?done=comment")
    assert "Your comment was added." in driver.find_element(By.CSS_SELECTOR, ".notice").text
    first = driver.find_element(By.CSS_SELECTOR, ".timeline li")
    assert "Fire exits are fine. Granting." in first.text
    click_and_wait(
        driver, driver.find_element(By.CSS_SELECTOR, "button[name=status][value=granted]")
    )
    assert "The status was changed." in driver.find_element(By.CSS_SELECTOR, ".notice").text
    assert driver.title == "Premises licence: Ada Lovelace (granted) · Taskflow"
    assert flow.get(case_id)["status"] == "granted"
    screenshot(driver, "case-after-changes")


def test_a_stale_form_is_refused(driver: Any, site: str, flow: Taskflow, clock: Clock) -> None:
    case_id = seed(flow, clock)["Alan Turing"]
    driver.get(f"{site}/ui/cases/{case_id}")
    flow.assign(case_id, "bob", user={"profile": {"id": "bob"}})
    before = flow.get(case_id)
    driver.find_element(By.ID, "comment").send_keys("Taking this one.")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.comment-form button"))
    problem = driver.find_element(By.CSS_SELECTOR, ".problem").text
    assert "changed by someone else" in problem
    # The page shows the case as it is now, and keeps what was typed.
    assert "Assigned to bob" in driver.find_element(By.CSS_SELECTOR, ".timeline").text
    assert driver.find_element(By.ID, "comment").get_attribute("value") == "Taking this one."
    assert flow.get(case_id) == before
    screenshot(driver, "case-stale-form")


def test_script_in_data_is_shown_as_text(driver: Any, site: str, flow: Taskflow) -> None:
    evil = "<script>document.title='owned'</script><b>bold</b>"
    case_id = flow.create({"kind": evil, "applicant": evil, "note": evil})["id"]
    flow.comment(case_id, evil, user={"profile": {"id": "alice"}})
    driver.get(f"{site}/ui/cases/{case_id}")
    assert driver.find_element(By.TAG_NAME, "h1").text == f"{evil}: {evil}"
    assert driver.find_elements(By.CSS_SELECTOR, "main b") == []
    assert driver.find_elements(By.CSS_SELECTOR, "main script") == []
    assert driver.title.startswith("<script>")
    driver.get(site + "/ui/")
    assert evil in driver.find_element(By.CSS_SELECTOR, "table.cases").text
    screenshot(driver, "case-escaped")


CROSS_SITE_PAGE = """<!DOCTYPE html><html><head><title>Win a prize</title></head><body>
<form method="post" action="{target}">
<input type="hidden" name="version" value="{version}">
<input type="hidden" name="comment" value="forged">
<input type="hidden" name="csrf_token" value="{token}">
<button id="go" type="submit">Claim</button></form></body></html>"""


def test_a_cross_site_post_is_refused(driver: Any, site: str, flow: Taskflow) -> None:
    case_id = flow.create({"kind": "Permit", "applicant": "Ada"})["id"]
    # The victim has the pages open: the browser holds the token's cookie.
    driver.get(f"{site}/ui/cases/{case_id}")
    token = driver.find_element(By.NAME, "csrf_token").get_attribute("value")
    version = flow.get(case_id)["version"]
    target = f"{site}/ui/cases/{case_id}/comment"

    # Another site (another origin: localhost, not 127.0.0.1) posts a form to the pages,
    # even knowing a token, which is worthless without the cookie the browser keeps back.
    def attacker(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        page = CROSS_SITE_PAGE.format(target=target, version=version, token=token)
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page.encode()]

    with serve_wsgi(attacker, host="localhost") as other:
        driver.get(other + "/")
        click_and_wait(driver, driver.find_element(By.ID, "go"))
        assert driver.title == "You may not do that (403) · Taskflow"
        screenshot(driver, "cross-site-post-refused")
    assert [e["eventName"] for e in flow.get(case_id)["activityLog"]] == ["create"]


def test_the_workflow_page(driver: Any, site: str, flow: Taskflow, clock: Clock) -> None:
    seed(flow, clock)
    driver.get(site + "/ui/workflow")
    assert driver.title == "Workflow · Taskflow"
    picture = driver.find_element(By.CSS_SELECTOR, ".picture svg")
    assert picture.size["width"] > 300
    screenshot(driver, "workflow")


def test_a_404_page(driver: Any, site: str) -> None:
    driver.get(site + "/ui/cases/00000000-0000-4000-8000-000000000000")
    assert driver.title == "Page not found (404) · Taskflow"
    assert driver.find_element(By.TAG_NAME, "h1").text == "Page not found"
    click_and_wait(driver, driver.find_element(By.LINK_TEXT, "Go to the inbox"))
    assert driver.title == "Inbox · Taskflow"
    driver.get(site + "/ui/cases/00000000-0000-4000-8000-000000000000")
    screenshot(driver, "not-found")


def test_the_pages_work_with_javascript_turned_off(driver: Any, site: str, flow: Taskflow) -> None:
    """Every test here runs with JavaScript off; this one proves it is off, so the others
    prove the pages work without it."""

    def probe(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [b"<title>scripts off</title><script>document.title='scripts on'</script>"]

    with serve_wsgi(probe) as other:
        driver.get(other + "/")
        assert driver.title == "scripts off"


def test_a_header_signed_user_sees_the_same(flow: Taskflow) -> None:
    """The pages take the user from whatever the host's middleware sets (here a header,
    through the test client): not a browser test, a guard that SignedIn is no special path."""
    import falcon.testing

    client = falcon.testing.TestClient(
        create_app(flow, middleware=[HeaderAuth()], ui_secret=SECRET)
    )
    page = client.simulate_get("/ui/", headers={"X-User": "zoe"}).text
    assert "Signed in as <strong>zoe</strong>" in page


def test_the_keyboard_reaches_the_content_and_the_filters(
    driver: Any, site: str, flow: Taskflow
) -> None:
    from selenium.webdriver.common.keys import Keys

    flow.create({"kind": "Permit", "applicant": "Ada"})
    flow.create({"kind": "Licence", "applicant": "Alan"})
    driver.get(site + "/ui/")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.text == "Skip to content"
    # Type a search and press Enter: the filters apply without a mouse.
    search = driver.find_element(By.ID, "q")
    old = driver.find_element(By.TAG_NAME, "html")
    search.send_keys("alan", Keys.ENTER)
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(old))
    titles = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "table.cases th.title")]
    assert titles == ["Licence: Alan"]
