"""Webhook subscriptions, signatures and retry timing; cursors of the change feed."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from taskflow_core import Taskflow
from taskflow_core.application.feed import decode_cursor, encode_cursor
from taskflow_core.background.relay import RETRY_FOR, lease, retry_delay
from taskflow_core.domain.model import Position, Webhook
from taskflow_core.domain.webhooks import headers, sign, signing_key, wants
from taskflow_core.memory import MemoryStore


class TestSignatures:
    def test_a_signature_matches_the_standard_webhooks_reference(self) -> None:
        # The example of the Standard Webhooks libraries' own test suites.
        signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b'{"test": 2432232314}',
        )
        assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    def test_a_whsec_secret_signs_with_its_decoded_bytes_another_with_its_text(self) -> None:
        assert signing_key("whsec_aGVsbG8=") == b"hello"
        assert signing_key("hello") == b"hello"
        assert signing_key("whsec hello") == b"whsec hello"
        assert sign("whsec_aGVsbG8=", "id", 1, b"{}") == sign("hello", "id", 1, b"{}")


class TestSubscribing:
    @pytest.fixture
    def flow(self) -> Taskflow:
        return Taskflow(MemoryStore(), plain_webhook_secrets=True)

    def test_webhook_returns_the_flow_so_calls_chain(self, flow: Taskflow) -> None:
        assert (
            flow.webhook("https://example.com/hook").webhook("http://[2606:4700::1111]:8080/h?x=1")
            is flow
        )

    @pytest.mark.parametrize(
        "url",
        ["", "example.com/hook", "ftp://example.com/", "http:///path", "http://a b/", None, 7],
    )
    def test_a_url_that_cannot_be_posted_to_is_refused(self, flow: Taskflow, url: Any) -> None:
        with pytest.raises(ValueError, match="URL"):
            flow.webhook(url)

    @pytest.mark.parametrize(
        "events", ["create", [], ["*:x"], ["status:"], ["pre-create"], [3], None]
    )
    def test_malformed_event_patterns_are_refused(self, flow: Taskflow, events: Any) -> None:
        with pytest.raises(ValueError, match=r"pattern|pre- event"):
            flow.webhook("https://example.com/hook", events=events)

    @pytest.mark.parametrize("secret", ["", "whsec_!!!", "whsec_", 42])
    def test_an_unusable_secret_is_refused(self, flow: Taskflow, secret: Any) -> None:
        with pytest.raises(ValueError, match="secret"):
            flow.webhook("https://example.com/hook", secret=secret)

    @pytest.mark.parametrize(
        ("events", "event", "wanted"),
        [
            (("*",), "status:new:open", True),
            (("*",), "timer:remind", True),
            (("status:*:*",), "status:new:open", True),
            (("status:*:done",), "status:new:open", False),
            (("status",), "status:new:open", False),
            (("create", "comment"), "comment", True),
            (("create", "comment"), "update-comment", False),
        ],
    )
    def test_a_webhook_wants_the_events_its_patterns_match(
        self, events: tuple[str, ...], event: str, wanted: bool
    ) -> None:
        assert wants(Webhook(url="http://x/", events=events), event) is wanted


class TestRetries:
    def test_the_first_retry_comes_within_five_seconds(self) -> None:
        assert retry_delay(1) <= timedelta(seconds=5)

    def test_retries_back_off_and_go_on_for_a_day(self) -> None:
        delays = [retry_delay(n) for n in range(1, 60)]
        assert delays == sorted(delays)
        assert max(delays) <= timedelta(hours=1)
        assert timedelta(hours=24) <= RETRY_FOR

    def test_a_claim_outlasts_the_longest_send(self) -> None:
        # The timeout bounds a send as a whole (http_sender.py); the rest is for recording.
        assert lease(10) >= timedelta(seconds=10 + 30)
        assert lease(0.5) > timedelta(seconds=0.5)


class TestCursors:
    @pytest.mark.parametrize("position", [Position(0, 0), Position(0, 7), Position(2**63 - 1, 1)])
    def test_a_cursor_names_the_position_it_was_made_from(self, position: Position) -> None:
        cursor = encode_cursor(position)
        assert decode_cursor(cursor) == position
        assert cursor.replace("-", "").replace("_", "").isalnum()

    def test_no_cursor_is_the_start(self) -> None:
        assert decode_cursor(None) is None


class TestTheDocs:
    def test_the_verification_code_in_the_docs_accepts_our_messages_and_refuses_others(
        self,
    ) -> None:
        guide = (Path(__file__).resolve().parents[2] / "docs" / "integrations.md").read_text()
        found = re.search(r"```python\n(import base64, hashlib.*?)```", guide, re.DOTALL)
        assert found is not None
        namespace: dict[str, Any] = {}
        exec(found[1], namespace)
        verify = namespace["verify"]
        body = b'{"type":"create"}'
        for secret in ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "a passphrase"):
            sent = headers("msg-1", int(time.time()), body, secret)
            assert verify(secret, sent, body)
            assert not verify(secret, sent, body + b" ")
            assert not verify("whsec_" + secret[-8:], sent, body)
        stale = headers("msg-1", int(time.time()) - 3600, body, "a passphrase")
        assert not verify("a passphrase", stale, body)
