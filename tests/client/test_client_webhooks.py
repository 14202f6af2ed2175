"""``verify_webhook``: the Standard Webhooks check, against what taskflow's relay really sends
(a flow delivering to a receiver) and against the server's signer with every way a message
can fail to be proven."""

from __future__ import annotations

import base64
import time

import pytest

from taskflow_client import WebhookVerificationError, verify_webhook
from taskflow_core import Taskflow
from taskflow_core.domain.webhooks import headers as signed_headers
from taskflow_core.memory import MemoryStore
from tests.receiver import receiving

SECRET = "whsec_" + base64.b64encode(b"a secret of thirty-two bytes....").decode()
BODY = b'{"type":"create","timestamp":"2026-01-05T10:00:00.000Z","data":{"caseId":"c1"}}'


def sent(secret: str = SECRET, *, at: int | None = None, body: bytes = BODY) -> dict[str, str]:
    return signed_headers("msg_1", int(time.time()) if at is None else at, body, secret)


def test_what_the_relay_delivers_verifies() -> None:
    with receiving() as receiver:
        flow = Taskflow(MemoryStore())
        flow.webhook(receiver.url(), secret=SECRET)
        case = flow.create({"subject": "dog"})
        assert flow.deliver_pending(timeout=5) == 1
        (message,) = receiver.accepted()
    event = verify_webhook(SECRET, message.headers, message.body)
    assert event["type"] == "create"
    assert event["data"]["caseId"] == case["id"]


def test_a_plain_string_secret_signs_with_its_bytes() -> None:
    assert verify_webhook("plain words", sent("plain words"), BODY)["type"] == "create"


def test_any_one_of_several_signatures_is_enough() -> None:
    headers = sent()
    other = "v1," + base64.b64encode(b"x" * 32).decode()
    headers["webhook-signature"] = f"v1a,zzz {other} {headers['webhook-signature']}"
    assert verify_webhook(SECRET, headers, BODY)["data"] == {"caseId": "c1"}


def test_headers_in_any_case_and_a_str_body() -> None:
    headers = {k.title(): v for k, v in sent().items()}
    assert verify_webhook(SECRET, headers, BODY.decode())["type"] == "create"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b: (h, b + b" "), "no signature"),
        (lambda h, b: ({**h, "webhook-id": "msg_2"}, b), "no signature"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b), "missing"),
        (lambda h, b: ({**h, "webhook-timestamp": "soon"}, b), "not Unix seconds"),
        (lambda h, b: ({**h, "webhook-signature": "v1,not base64!"}, b), "no signature"),
    ],
)  # fmt: skip
def test_a_message_not_proven_is_refused(change: object, reason: str) -> None:
    headers, body = change(sent(), BODY)  # type: ignore[operator]
    with pytest.raises(WebhookVerificationError, match=reason):
        verify_webhook(SECRET, headers, body)


def test_another_secret_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="no signature"):
        verify_webhook("whsec_" + base64.b64encode(b"another").decode(), sent(), BODY)


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_timestamp_beyond_five_minutes_either_way_is_refused(offset: int) -> None:
    now = time.time()
    headers = sent(at=int(now) + offset)
    with pytest.raises(WebhookVerificationError, match="beyond the tolerance of 300 s"):
        verify_webhook(SECRET, headers, BODY, now=now)
    assert verify_webhook(SECRET, sent(at=int(now) + offset // 2), BODY, now=now)


def test_a_signed_body_that_is_no_json_object_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="not a JSON object"):
        verify_webhook(SECRET, sent(body=b"[1]"), b"[1]")


def test_a_malformed_whsec_secret_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="base64"):
        verify_webhook("whsec_!!", sent(), BODY)
