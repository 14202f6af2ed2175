"""/docs in a real browser (Debian's Chromium): Swagger UI starts from the app's own files
under its Content-Security-Policy, lists the operations, and "Try it out" creates a case on
the server that served it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from taskflow_core import Taskflow
from taskflow_core.memory import MemoryStore
from taskflow_falcon import create_app
from tests.ui.browsing import screenshot, serve_wsgi, start_chromium

WAIT = 20


@pytest.fixture
def browser() -> Iterator[Any]:
    driver = start_chromium(javascript=True)
    try:
        yield driver
    finally:
        driver.quit()


def test_swagger_ui_lists_the_operations_and_tries_one_out(browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    flow = Taskflow(MemoryStore())
    with serve_wsgi(create_app(flow)) as url:
        browser.get(url + "/docs")
        wait = WebDriverWait(browser, WAIT)
        wait.until(shown.presence_of_element_located((By.ID, "operations-cases-createCase")))
        operations = browser.find_elements(By.CSS_SELECTOR, ".opblock")
        assert len(operations) > 20
        screenshot(browser, "docs")

        create = browser.find_element(By.ID, "operations-cases-createCase")
        create.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
        wait.until(lambda _: create.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
        create.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
        body = wait.until(
            lambda _: create.find_element(By.CSS_SELECTOR, "textarea.body-param__text")
        )
        body.clear()
        body.send_keys(json.dumps({"subject": "Tried out in the browser"}))
        create.find_element(By.CSS_SELECTOR, ".execute").click()
        wait.until(
            lambda _: create.find_elements(
                By.CSS_SELECTOR, ".live-responses-table tr.response .response-col_status"
            )
        )
        status = create.find_element(
            By.CSS_SELECTOR, ".live-responses-table tr.response .response-col_status"
        )
        assert status.text.strip().startswith("200")
        screenshot(browser, "docs-tried")

        # The page's own script and the request it sent: nothing refused by the policy.
        refused = [
            entry
            for entry in browser.get_log("browser")
            if "Content Security Policy" in entry["message"]
        ]
        assert refused == []
    created = flow.list()["data"]
    assert [case["data"] for case in created] == [{"subject": "Tried out in the browser"}]
