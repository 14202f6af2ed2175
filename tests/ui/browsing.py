"""A real browser for the case browser's tests: Debian's Chromium driven by selenium, and
WSGI apps served on threads for it to open.

When Chromium cannot start, the tests say so: a failure under CI (``CI=true``, where
.ci/run installs it), a skip naming what is missing elsewhere.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-screenshots"
README_SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = ("chromium", "chromium-browser")
DRIVER = "chromedriver"


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_wsgi(app: Callable[..., Any], host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` on a free port on a thread; yields its base URL."""
    server = make_server(host, 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _unavailable(reason: str) -> None:
    message = (
        f"the browser tests need Debian's Chromium and its driver ({reason}): "
        "apt-get install -y chromium chromium-driver"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def start_chromium(*, javascript: bool = False) -> Any:
    """A headless Chromium; JavaScript off unless asked, as the pages must work without."""
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        _unavailable(f"selenium is not installed: {error}")
    binary = next((found for name in CHROMIUM if (found := shutil.which(name))), None)
    driver_path = shutil.which(DRIVER)
    if binary is None or driver_path is None:
        _unavailable("chromium or chromedriver is not on the PATH")
    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # the suite may run as root, in a container
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    try:
        return webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    except WebDriverException as error:
        _unavailable(f"it did not start: {error.msg}")


def screenshot(driver: Any, name: str, *, readme: bool = False) -> Path:
    """Save the whole page the browser shows to test-screenshots/<name>.png, at the
    window's width; the README's also to docs/screenshots/, but only when asked
    (``TASKFLOW_README_SCREENSHOTS=1``): they show random ids and times, and a suite run
    must leave the work tree as it found it."""
    from selenium.webdriver.common.by import By

    # Measured from the layout, not by a script (the pages run with JavaScript off); the
    # viewport is then stretched to it through DevTools, so the picture holds the whole page.
    width = driver.find_element(By.TAG_NAME, "body").size["width"]
    height = driver.find_element(By.TAG_NAME, "html").size["height"]
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    try:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        driver.save_screenshot(str(path))
        if readme and os.environ.get("TASKFLOW_README_SCREENSHOTS") == "1":
            README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(README_SCREENSHOTS / f"{name}.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path


def click_and_wait(driver: Any, element: Any, seconds: float = 15) -> None:
    """Click what loads a new page (a link, a form's button) and wait until it has."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, seconds).until(expected_conditions.staleness_of(old))
