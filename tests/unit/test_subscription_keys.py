"""The key a webhook subscription is stored and found by (issue 33, item 8): the URL itself,
or, when it has credentials, the URL without them and a one-way hash that tells such URLs
apart; and errors cleaned of a URL's credentials."""

from __future__ import annotations

import pytest

from taskflow_core.domain.webhooks import (
    has_credentials,
    shown_url,
    subscription_key,
    without_credentials,
)

SECRETIVE = "https://user:hunter2@hooks.example.com/in?token=abc123"


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/in", "http://127.0.0.1:8000/", "https://h.example/a?"]
)
def test_a_url_without_credentials_is_its_own_key(url: str) -> None:
    assert not has_credentials(url)
    assert subscription_key(url) == url


@pytest.mark.parametrize(
    "url", [SECRETIVE, "https://user@h.example/", "https://h.example/in?token=abc123"]
)
def test_a_url_with_credentials_is_keyed_without_them(url: str) -> None:
    key = subscription_key(url)
    base, _, digest = key.partition("#")
    assert base == shown_url(url)
    assert len(digest) == 32
    assert "hunter2" not in key
    assert "abc123" not in key
    assert shown_url(key) == shown_url(url)  # listings show a key as they show the URL


def test_keys_are_the_same_everywhere_and_tell_credentials_apart() -> None:
    # Pinned: every process, of every version, with any key or none, must come to the same
    # key, or a subscription stored before would be registered again beside itself.
    assert subscription_key(SECRETIVE) == (
        "https://***@hooks.example.com/in?***#6595f438e61e818d0a99fea066962401"
    )
    subscription_key.cache_clear()
    first = subscription_key(SECRETIVE)
    subscription_key.cache_clear()
    assert subscription_key(SECRETIVE) == first
    assert subscription_key(SECRETIVE.replace("abc123", "abc124")) != first
    assert subscription_key(SECRETIVE.replace("hunter2", "hunter3")) != first


def test_an_error_naming_the_url_or_its_credentials_is_cleaned() -> None:
    text = f"cannot reach {SECRETIVE}: user:hunter2 refused, token=abc123, hunter2"
    assert without_credentials(text, SECRETIVE) == (
        "cannot reach https://***@hooks.example.com/in?***: *** refused, ***, ***"
    )
    assert without_credentials("HTTP 500", "https://h.example/") == "HTTP 500"
    # A short password alone is left: hiding every "a" would hide the error, not a secret.
    assert without_credentials("a failure", "https://u:a@h.example/") == "a failure"
