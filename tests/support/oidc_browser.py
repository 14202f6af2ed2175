"""A browser for the sign-in tests: ``requests`` following redirects through an OpenID Connect
provider and filling in oidc-provider's development login and consent forms."""

from __future__ import annotations

import html
import re
import urllib.parse
from typing import Any

import requests


def submit_form(browser: requests.Session, page: requests.Response, **fields: str) -> Any:
    """Submit the page's form (oidc-provider's login or consent) with its hidden fields."""
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert action, page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    target = urllib.parse.urljoin(page.url, html.unescape(action.group(1)))
    return browser.post(target, data={**hidden, **fields}, allow_redirects=False)


def follow(browser: requests.Session, response: requests.Response, stop: str) -> Any:
    """Follow redirects until one points at a URL starting with ``stop`` (not followed)."""
    while response.is_redirect:
        location = urllib.parse.urljoin(response.url, response.headers["location"])
        if location.startswith(stop):
            return location
        response = browser.get(location, allow_redirects=False)
    return response


def to_callback(browser: requests.Session, start: str, stop: str, login: str = "alice") -> str:
    """Start at ``start`` (a page, or the sign-in) and go through the provider's forms; the
    callback URL the provider sends the browser back to, not yet visited."""
    page = follow(browser, browser.get(start, allow_redirects=False), stop)
    assert isinstance(page, requests.Response), page
    consent = follow(browser, submit_form(browser, page, login=login, password="any"), stop)
    if isinstance(consent, str):
        return consent
    callback = follow(browser, submit_form(browser, consent), stop)
    assert isinstance(callback, str), callback.text
    return callback
