"""Acting on many cases in a real browser (SPEC §15, §18): Debian's Chromium, JavaScript
off, ticking rows with the keyboard, the dry run's confirmation and the results. The
screenshots go to test-screenshots/bulk-confirm.png and bulk-done.png."""

from __future__ import annotations

from typing import Any

from taskflow_core import Taskflow
from tests.ui.browsing import click_and_wait, screenshot
from tests.ui.test_browser import (  # noqa: F401 (fixtures)
    Clock,
    clock,
    driver,
    flow,
    seed,
    site,
)


def test_select_rows_set_a_status_confirm_and_see_the_results(
    driver: Any,  # noqa: F811
    site: str,  # noqa: F811
    flow: Taskflow,  # noqa: F811
    clock: Clock,  # noqa: F811
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    made = seed(flow, clock)
    chosen = [made["Alan Turing"], made["Margaret Hamilton"]]
    cannot = made["Donald Knuth"]  # new: the workflow does not let it go to in-review
    driver.set_window_size(1280, 900)
    driver.get(site + "/ui/")
    # Ticked with the keyboard: each box is reachable and named by its case's title.
    for case_id in [*chosen, cannot]:
        box = driver.find_element(By.ID, f"pick-{case_id}")
        box.send_keys(Keys.SPACE)
        assert box.is_selected()
    label = driver.find_element(By.CSS_SELECTOR, f"label[for='pick-{chosen[0]}']")
    assert label.get_attribute("textContent") == "Select Street trading: Alan Turing"
    driver.find_element(By.ID, "verb-status").send_keys(Keys.SPACE)
    driver.find_element(By.CSS_SELECTOR, "#new-status option[value='in-review']").click()
    screenshot(driver, "bulk-inbox")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.bulk button[type=submit]"))
    assert driver.title == "Check the change · Taskflow"
    lead = driver.find_element(By.CSS_SELECTOR, "p.lead").text
    assert "This will set 2 cases to \u2018in-review\u2019; 1 cannot be" in lead
    assert "Pavement café: Donald Knuth" in driver.find_element(By.CSS_SELECTOR, ".refused").text
    assert {flow.get(case_id)["status"] for case_id in chosen} == {"submitted"}
    screenshot(driver, "bulk-confirm", readme=True)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.confirm button"))
    assert driver.title == "Changes made · Taskflow"
    heading = driver.find_element(By.TAG_NAME, "h1").text
    assert heading == "Done: set 2 cases to \u2018in-review\u2019"
    changed = driver.find_elements(By.CSS_SELECTOR, "li.succeeded")
    assert sorted(item.text for item in changed) == [
        "✓ Skip permit: Margaret Hamilton",
        "✓ Street trading: Alan Turing",
    ]
    assert {flow.get(case_id)["status"] for case_id in chosen} == {"in-review"}
    assert flow.get(cannot)["status"] == "new"
    screenshot(driver, "bulk-done")
    # Reloading the results posts the confirmation again: it acts on nothing twice.
    log = [len(flow.get(case_id)["activityLog"]) for case_id in chosen]
    driver.refresh()
    # The reload posts again; wait for its page (it alone has the notice).
    notice = WebDriverWait(driver, 15).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".notice"))
    )
    assert "nothing was changed a second time" in notice.text
    assert [len(flow.get(case_id)["activityLog"]) for case_id in chosen] == log
    # Back to the inbox, as it was.
    click_and_wait(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Back to the inbox"))
    assert driver.current_url == site + "/ui/"
