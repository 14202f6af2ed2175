"""Webhook secrets sealed at rest (issue 33, item 8): AES-GCM keyed from the environment,
older keys for rotation, and no secret stored as given unless the host says so."""

from __future__ import annotations

import base64

import pytest

from taskflow_compose.sealing import AesGcmSealer, sealer_from_environment
from taskflow_core import Taskflow
from taskflow_core.application.sealing import SecretUnavailable, open_secret
from taskflow_core.memory import MemoryStore

KEY = b"a" * 32
OLD_KEY = b"b" * 32


def test_a_sealed_secret_opens_to_itself_and_differs_each_time() -> None:
    sealer = AesGcmSealer([KEY])
    first, second = sealer.seal("whsec_abc"), sealer.seal("whsec_abc")
    assert first.startswith("sealed:v1:")
    assert first != second
    assert "whsec_abc" not in first
    assert sealer.open(first) == sealer.open(second) == "whsec_abc"
    assert sealer.is_current(first)


def test_an_older_key_still_opens_what_it_sealed_and_is_not_current() -> None:
    sealed_before = AesGcmSealer([OLD_KEY]).seal("s3cret")
    rotated = AesGcmSealer([KEY, OLD_KEY])
    assert rotated.open(sealed_before) == "s3cret"
    assert not rotated.is_current(sealed_before)
    with pytest.raises(ValueError, match="not given"):
        AesGcmSealer([KEY]).open(sealed_before)


def test_a_damaged_sealed_secret_is_refused() -> None:
    sealer = AesGcmSealer([KEY])
    sealed = sealer.seal("s3cret")
    flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(ValueError, match="damaged"):
        sealer.open(flipped)


def test_the_environment_names_the_current_key_and_older_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TASKFLOW_SECRET_KEY", raising=False)
    assert sealer_from_environment() is None
    monkeypatch.setenv("TASKFLOW_SECRET_KEY", base64.b64encode(KEY).decode())
    monkeypatch.setenv("TASKFLOW_SECRET_KEYS_OLD", base64.b64encode(OLD_KEY).decode())
    sealer = sealer_from_environment()
    assert sealer is not None
    assert sealer.open(AesGcmSealer([OLD_KEY]).seal("x")) == "x"
    assert sealer.is_current(sealer.seal("x"))
    monkeypatch.setenv("TASKFLOW_SECRET_KEY", base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="32"):
        sealer_from_environment()


def test_a_secret_without_a_key_is_stored_as_given_with_a_warning_unless_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # SPEC §9: flow.webhook(url, secret=...) works on any flow.
    flow = Taskflow(MemoryStore())
    flow.webhook("https://example.com/h", secret="s3cret")
    flow.webhook("https://example.com/i", secret="s3cret")
    warned = [r for r in caplog.records if "TASKFLOW_SECRET_KEY" in r.getMessage()]
    assert len(warned) == 1  # once per flow
    with pytest.raises(ValueError, match="TASKFLOW_SECRET_KEY"):
        Taskflow(MemoryStore(), plain_webhook_secrets=False).webhook(
            "https://example.com/h", secret="s3cret"
        )
    Taskflow(MemoryStore(), plain_webhook_secrets=False).webhook("https://example.com/h")
    Taskflow(MemoryStore(), secrets=AesGcmSealer([KEY])).webhook(
        "https://example.com/h", secret="s3cret"
    )


def test_a_sealed_secret_without_its_key_cannot_be_opened_a_plain_one_can() -> None:
    sealed = AesGcmSealer([KEY]).seal("s3cret")
    assert open_secret(None, "old plain") == "old plain"
    assert open_secret(None, None) is None
    with pytest.raises(SecretUnavailable, match="no key"):
        open_secret(None, sealed)
    with pytest.raises(SecretUnavailable, match="cannot be opened"):
        open_secret(AesGcmSealer([OLD_KEY]), sealed)
