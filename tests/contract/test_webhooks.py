"""Webhooks through the service, on every store, to a real HTTP receiver: what a subscriber
receives, and what ``flow.deliveries`` shows."""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from taskflow_compose.sealing import AesGcmSealer
from taskflow_core import Taskflow
from taskflow_core.background.http_sender import HttpSender, post
from taskflow_core.background.relay import Relay, lease
from taskflow_core.domain.addresses import Reach
from taskflow_core.domain.model import Webhook
from taskflow_core.errors import NotFound
from taskflow_core.ports import Store
from tests.receiver import Received, Receiver, eventually, receiving
from tests.support.raw_tables import webhook_rows
from tests.support.resolvers import HangingResolver

from .conftest import ALICE

SECRET = "whsec_" + base64.b64encode(b"sixteen byte key").decode()
# Secrets are stored sealed (issue 33, item 8): with a real key, as a host would.
SEALER = AesGcmSealer([b"k" * 32])


class Clock:
    """The flow's clock, moved by hand: retries come due without sleeping."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def flow(store: Store, clock: Clock) -> Taskflow:
    return Taskflow(store, clock=clock, allow_private_webhooks=True, secrets=SEALER)


def delivered(flow: Taskflow, receiver: Receiver, count: int) -> None:
    """Run the relay until the receiver has had ``count`` requests (a store may serve a
    change only a moment after it commits)."""

    def enough() -> bool:
        flow.deliver_pending(timeout=2)
        return len(receiver.all()) >= count

    eventually(enough)


def names(received: list[Received]) -> list[str]:
    return [r.message["type"] for r in received]


class TestMessages:
    def test_each_matching_event_is_posted_once_as_a_signed_standard_webhook(
        self, flow: Taskflow, receiver: Receiver, clock: Clock
    ) -> None:
        flow.webhook(receiver.url(), events=["create", "status:*:done"], secret=SECRET)
        case = flow.create({"n": 1}, user=ALICE)
        flow.comment(case["id"], "not wanted", user=ALICE)
        flow.set_status(case["id"], "done", user=ALICE)
        delivered(flow, receiver, 2)
        assert flow.deliver_pending(timeout=2) == 0
        create, done = receiver.all()
        assert names([create, done]) == ["create", "status:new:done"]
        feed = {i["entry"]["id"]: i for i in flow.changes()["data"]}
        for received in (create, done):
            message = received.message
            assert received.headers["content-type"] == "application/json"
            assert received.headers["webhook-id"] == message["data"]["entry"]["id"]
            assert received.headers["webhook-timestamp"] == str(int(clock.now.timestamp()))
            assert received.signature_is_valid(SECRET)
            assert not received.signature_is_valid(SECRET[:-4] + "AAA=")
            assert message["data"] == feed[received.headers["webhook-id"]]
            assert message["timestamp"] == message["data"]["entry"]["createdAt"]
            assert set(message) == {"type", "timestamp", "data"}

    def test_a_plain_secret_signs_with_its_bytes_and_no_secret_sends_no_signature(
        self, flow: Taskflow, receiver: Receiver
    ) -> None:
        flow.webhook(receiver.url("/signed"), secret="plain words")
        flow.webhook(receiver.url("/unsigned"))
        flow.create({}, user=ALICE)
        delivered(flow, receiver, 2)
        (signed,) = receiver.accepted("/signed")
        (unsigned,) = receiver.accepted("/unsigned")
        assert signed.signature_is_valid("plain words")
        assert "webhook-signature" not in unsigned.headers
        assert signed.headers["webhook-id"] == unsigned.headers["webhook-id"]

    def test_each_subscriber_gets_the_events_its_patterns_match(
        self, flow: Taskflow, receiver: Receiver
    ) -> None:
        flow.webhook(receiver.url("/all"))
        flow.webhook(receiver.url("/comments"), events=("comment", "update-comment"))
        case = flow.create({}, user=ALICE)
        flow.comment(case["id"], "hi", user=ALICE)
        flow.assign(case["id"], "bob", user=ALICE)
        delivered(flow, receiver, 4)
        assert names(receiver.accepted("/all")) == ["create", "comment", "assign"]
        assert names(receiver.accepted("/comments")) == ["comment"]
        assert [d["webhookUrl"] for d in flow.deliveries(case["id"])] == [
            receiver.url("/all"),
            receiver.url("/all"),
            receiver.url("/comments"),
            receiver.url("/all"),
        ]

    def test_a_webhook_takes_the_events_that_commit_after_it_is_registered(
        self, flow: Taskflow, receiver: Receiver, store: Store
    ) -> None:
        before = flow.create({"when": "before"}, user=ALICE)
        flow.webhook(receiver.url())
        after = flow.create({"when": "after"}, user=ALICE)

        def arrived() -> bool:
            flow.deliver_pending(timeout=2)
            return after["id"] in [r.message["data"]["caseId"] for r in receiver.all()]

        eventually(arrived)
        if type(store).__name__ != "PostgresStore":
            # PostgreSQL may also hand over a change that committed a moment before, while it
            # had no place in the feed yet (taskflow_postgres/changes.py: head; at least
            # once, never fewer).
            assert flow.deliveries(before["id"]) == []

    def test_registering_a_url_again_changes_what_it_receives(
        self, flow: Taskflow, receiver: Receiver
    ) -> None:
        flow.webhook(receiver.url(), events=["create"])
        case = flow.create({}, user=ALICE)
        delivered(flow, receiver, 1)
        flow.webhook(receiver.url(), events=["comment"], secret="new")
        flow.set_status(case["id"], "open", user=ALICE)
        flow.comment(case["id"], "now wanted", user=ALICE)
        delivered(flow, receiver, 2)
        assert names(receiver.all()) == ["create", "comment"]
        assert receiver.all()[1].signature_is_valid("new")


class TestFailures:
    def test_a_refused_delivery_is_retried_with_backoff_until_accepted(
        self, flow: Taskflow, receiver: Receiver, clock: Clock
    ) -> None:
        flow.webhook(receiver.url())
        receiver.default = (500, 0.0)
        case = flow.create({}, user=ALICE)
        delivered(flow, receiver, 1)
        (pending,) = flow.deliveries(case["id"])
        assert pending["status"] == "pending"
        assert pending["attempts"] == 1
        assert "500" in pending["lastError"]
        assert flow.deliver_pending(timeout=2) == 0
        assert len(receiver.all()) == 1  # not due yet
        clock.advance(1)
        flow.deliver_pending(timeout=2)
        assert len(receiver.all()) == 2  # the first retry, a second later
        clock.advance(1.9)
        flow.deliver_pending(timeout=2)
        assert len(receiver.all()) == 2  # the next one waits twice as long
        receiver.default = (204, 0.0)
        clock.advance(0.1)
        assert flow.deliver_pending(timeout=2) == 1
        assert flow.deliveries(case["id"]) == [
            {
                "webhookUrl": receiver.url(),
                "eventName": "create",
                "attempts": 3,
                "status": "delivered",
                "lastError": pending["lastError"],
            }
        ]

    def test_a_later_event_of_a_case_waits_until_the_earlier_one_is_delivered(
        self, flow: Taskflow, receiver: Receiver, clock: Clock
    ) -> None:
        flow.webhook(receiver.url())
        receiver.default = (503, 0.0)
        case = flow.create({}, user=ALICE)
        flow.comment(case["id"], "second", user=ALICE)
        other = flow.create({}, user=ALICE)
        delivered(flow, receiver, 2)
        eventually(lambda: len(flow.deliveries(case["id"])) == 2)
        flow.deliver_pending(timeout=2)
        # The other case's event is not held up; this case's second waits for its first.
        assert sorted(r.message["data"]["caseId"] for r in receiver.all()) == sorted(
            [case["id"], other["id"]]
        )
        assert [d["attempts"] for d in flow.deliveries(case["id"])] == [1, 0]
        receiver.default = (200, 0.0)
        clock.advance(1)
        assert flow.deliver_pending(timeout=2) == 3
        in_case = [r for r in receiver.accepted() if r.message["data"]["caseId"] == case["id"]]
        assert names(in_case) == ["create", "comment"]

    def test_a_receiver_that_is_down_gets_the_event_when_it_is_back(
        self, flow: Taskflow, receiver: Receiver, clock: Clock
    ) -> None:
        flow.webhook(receiver.url())
        receiver.stop()
        case = flow.create({}, user=ALICE)
        eventually(
            lambda: flow.deliver_pending(timeout=2) == 0 and bool(flow.deliveries(case["id"]))
        )
        eventually(lambda: flow.deliveries(case["id"])[0]["attempts"] >= 1)
        (refused,) = flow.deliveries(case["id"])
        assert refused["status"] == "pending"
        assert "refused" in refused["lastError"].lower()
        receiver.start()
        clock.advance(60)
        assert flow.deliver_pending(timeout=2) == 1
        assert names(receiver.accepted()) == ["create"]

    def test_an_event_refused_for_a_day_is_given_up_and_the_next_one_goes(
        self, flow: Taskflow, receiver: Receiver, clock: Clock
    ) -> None:
        flow.webhook(receiver.url())
        receiver.default = (500, 0.0)
        case = flow.create({}, user=ALICE)
        flow.comment(case["id"], "next", user=ALICE)
        delivered(flow, receiver, 1)
        eventually(
            lambda: flow.deliver_pending(timeout=2) == 0 and len(flow.deliveries(case["id"])) == 2
        )
        clock.advance(23 * 3600)
        flow.deliver_pending(timeout=2)
        assert [d["status"] for d in flow.deliveries(case["id"])] == ["pending", "pending"]
        clock.advance(3600)
        flow.deliver_pending(timeout=2)
        first, second = flow.deliveries(case["id"])
        assert (first["status"], first["attempts"]) == ("failed", 3)
        assert second["attempts"] == 1  # no longer held back
        assert names(receiver.all())[-1] == "comment"

    def test_a_receiver_that_hangs_holds_up_no_other_subscriber(
        self, flow: Taskflow, receiver: Receiver
    ) -> None:
        flow.webhook(receiver.url("/hangs"))
        flow.webhook(receiver.url("/quick"))
        receiver.answers["/hangs"] = (200, 3.0)
        case = flow.create({}, user=ALICE)
        eventually(lambda: len(flow.changes()["data"]) == 1)
        started = time.monotonic()
        flow.deliver_pending(timeout=1)
        (quick,) = receiver.accepted("/quick")
        assert quick.at - started < 1
        hangs = next(d for d in flow.deliveries(case["id"]) if d["webhookUrl"].endswith("hangs"))
        assert hangs["status"] == "pending"
        assert "timed out" in hangs["lastError"]


class TestSlowReceivers:
    """Issue 33, items 1 and 2: one subscriber's slow or hanging receiver never delays
    another's deliveries, and no send outlasts the timeout."""

    def test_an_answer_trickled_a_byte_at_a_time_is_cut_off_at_the_timeout(
        self, flow: Taskflow, receiver: Receiver
    ) -> None:
        flow.webhook(receiver.url("/slow"))
        receiver.trickle.add("/slow")
        case = flow.create({}, user=ALICE)
        eventually(lambda: len(flow.changes()["data"]) == 1)
        relay = threading.Thread(target=flow.deliver_pending, kwargs={"timeout": 1})
        relay.start()
        relay.join(2.5)
        # (Stopping the receiver at the end ends a send that was not cut off.)
        assert not relay.is_alive()
        (slow,) = flow.deliveries(case["id"])
        assert (slow["status"], slow["attempts"]) == ("pending", 1)
        assert slow["lastError"] == "timed out after 1s"

    def test_a_slow_subscriber_with_many_events_holds_up_no_other(
        self, flow: Taskflow, receiver: Receiver
    ) -> None:
        flow.webhook(receiver.url("/slow"))
        flow.webhook(receiver.url("/quick"))
        receiver.trickle.add("/slow")
        for n in range(12):
            flow.create({"n": n}, user=ALICE)
        eventually(lambda: len(flow.changes()["data"]) == 12)
        started = time.monotonic()
        relay = threading.Thread(target=flow.deliver_pending, kwargs={"timeout": 1, "workers": 4})
        relay.start()
        try:
            eventually(lambda: len(receiver.accepted("/quick")) == 12, within=10)
            latencies = [r.at - started for r in receiver.accepted("/quick")]
            assert max(latencies) < 1, latencies
            # Two of the four workers at most were the slow one's.
            assert len(receiver.all("/slow")) <= 4
        finally:
            relay.join(30)
        assert not relay.is_alive()
        assert len(receiver.all("/slow")) == 12  # each tried once, each timed out

    def test_an_event_that_commits_while_a_slow_send_is_in_flight_goes_out_at_once(
        self, flow: Taskflow, receiver: Receiver
    ) -> None:
        flow.webhook(receiver.url("/slow"))
        flow.webhook(receiver.url("/quick"))
        receiver.answers["/slow"] = (200, 30.0)  # never answers within the timeout
        flow.create({"n": 1}, user=ALICE)
        eventually(lambda: len(flow.changes()["data"]) == 1)
        relay = threading.Thread(target=flow.deliver_pending, kwargs={"timeout": 4})
        relay.start()
        try:
            eventually(lambda: len(receiver.accepted("/quick")) == 1, within=3)
            later = flow.create({"n": 2}, user=ALICE)
            committed = time.monotonic()
            eventually(lambda: len(receiver.accepted("/quick")) == 2, within=10)
            second = receiver.accepted("/quick")[1]
            assert second.message["data"]["caseId"] == later["id"]
            # Sent by the round that was waiting for the slow receiver, not the next one.
            assert relay.is_alive()
            assert second.at - committed < 2
        finally:
            relay.join(30)
        assert not relay.is_alive()

    def test_a_name_whose_resolver_hangs_times_out_stays_retryable_and_holds_up_no_other(
        self, store: Store, clock: Clock, receiver: Receiver
    ) -> None:
        resolver = HangingResolver("hangs.example")
        sender = HttpSender(Reach(private=True), lookup=resolver)
        flow = Taskflow(store, clock=clock, allow_private_webhooks=True, send_webhook=sender)
        hung = receiver.url("/hung").replace("127.0.0.1", "hangs.example")
        flow.webhook(hung)
        flow.webhook(receiver.url("/quick").replace("127.0.0.1", "localhost"))
        case = flow.create({}, user=ALICE)
        eventually(lambda: len(flow.changes()["data"]) == 1)
        try:
            started = time.monotonic()
            flow.deliver_pending(timeout=1)
            ended = time.monotonic() - started
            (quick,) = receiver.accepted("/quick")
            assert quick.at - started < 0.5
            assert ended < 1.5  # the timeout, not the resolver's 30 s
            left = next(d for d in flow.deliveries(case["id"]) if "hangs" in d["webhookUrl"])
            assert (left["status"], left["attempts"]) == ("pending", 1)
            assert left["lastError"] == "timed out after 1s"
        finally:
            resolver.release.set()
        # Retried once the name resolves again: nothing was given up.
        clock.advance(2)
        delivered(flow, receiver, 2)
        assert [d["status"] for d in flow.deliveries(case["id"])] == ["delivered"] * 2
        assert len(receiver.accepted("/hung")) == 1

    def test_a_receiver_reason_phrase_is_kept_short_and_escaped(
        self, flow: Taskflow, receiver: Receiver
    ) -> None:
        flow.webhook(receiver.url())
        receiver.default = (500, 0.0)
        receiver.reasons["/hook"] = "\x1b[31mforgé " + "A" * 500
        case = flow.create({}, user=ALICE)
        delivered(flow, receiver, 1)
        (failed,) = flow.deliveries(case["id"])
        error = failed["lastError"]
        assert error.startswith("HTTP 500 \\x1b[31mforg\\xe9 AAA")
        assert len(error) < 100
        assert error.isprintable()


class TestRelays:
    def test_a_relay_killed_while_sending_leaves_the_event_to_the_next(
        self, flow: Taskflow, receiver: Receiver, store: Store, clock: Clock
    ) -> None:
        flow.webhook(receiver.url())
        case = flow.create({}, user=ALICE)
        killed = Relay(store, post, clock, timeout=1)
        eventually(lambda: killed.fan_out() > 0)
        assert killed.claim() is not None  # ... and never sends, never records
        assert flow.deliver_pending(timeout=1) == 0
        assert receiver.all() == []
        clock.advance(lease(1).total_seconds())
        assert flow.deliver_pending(timeout=1) == 1
        assert names(receiver.accepted()) == ["create"]
        assert flow.deliveries(case["id"])[0]["attempts"] == 1

    def test_flows_registering_the_same_url_share_its_deliveries(
        self, store: Store, receiver: Receiver
    ) -> None:
        flows = [
            Taskflow(store, allow_private_webhooks=True, secrets=SEALER).webhook(
                receiver.url(), secret=SECRET
            )
            for _ in range(2)
        ]
        for n in range(10):
            flows[n % 2].create({"n": n}, user=ALICE)
        errors: list[BaseException] = []

        def relay(flow: Taskflow) -> None:
            try:
                deadline = time.monotonic() + 20
                while len(receiver.all()) < 10 and time.monotonic() < deadline:
                    flow.deliver_pending(timeout=2, workers=3)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=relay, args=(f,)) for f in flows]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        ids = [r.headers["webhook-id"] for r in receiver.all()]
        assert len(ids) == 10
        assert len(set(ids)) == 10
        assert all(r.signature_is_valid(SECRET) for r in receiver.all())

    def test_events_written_by_many_threads_right_after_registering_are_all_delivered(
        self, flow: Taskflow, receiver: Receiver
    ) -> None:
        flow.webhook(receiver.url())
        barrier = threading.Barrier(6)

        def create() -> None:
            barrier.wait(timeout=10)
            flow.create({})  # the first to get here saves the webhook; the rest wait for it

        threads = [threading.Thread(target=create) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        delivered(flow, receiver, 6)
        assert names(receiver.accepted()) == ["create"] * 6


class TestSubscriptions:
    """Issue 33, item 12: listing subscriptions (no secrets) and removing one."""

    def test_webhooks_lists_every_subscription_without_secrets_or_credentials(
        self, flow: Taskflow, store: Store, receiver: Receiver
    ) -> None:
        flow.webhook(receiver.url("/b"), events=["comment"], secret=SECRET)
        secretive = receiver.url("/a?token=abc123").replace("//", "//user:hunter2@")
        flow.webhook(secretive)
        # Another process's registration is listed too: the store's, not this flow's.
        Taskflow(store, allow_private_webhooks=True).webhook(receiver.url("/c")).create({})
        listed = flow.webhooks()
        # In the order of their keys: one with credentials by its URL as shown.
        assert listed == [
            {
                "url": receiver.url("/a?***").replace("//", "//***@"),
                "events": ["*"],
                "signed": False,
            },
            {"url": receiver.url("/b"), "events": ["comment"], "signed": True},
            {"url": receiver.url("/c"), "events": ["*"], "signed": False},
        ]
        assert "hunter2" not in repr(listed)
        assert "abc123" not in repr(listed)
        assert SECRET not in repr(listed)

    def test_unsubscribing_cancels_pending_deliveries_and_stops_new_ones(
        self, flow: Taskflow, receiver: Receiver, clock: Clock
    ) -> None:
        flow.webhook(receiver.url("/bad"))
        flow.webhook(receiver.url("/good"))
        receiver.answers["/bad"] = (500, 0.0)
        case = flow.create({}, user=ALICE)
        delivered(flow, receiver, 2)
        assert flow.unsubscribe(receiver.url("/bad"))
        assert not flow.unsubscribe(receiver.url("/bad"))
        assert [w["url"] for w in flow.webhooks()] == [receiver.url("/good")]
        flow.comment(case["id"], "after", user=ALICE)
        clock.advance(3600)
        delivered(flow, receiver, 3)
        assert flow.deliver_pending(timeout=2) == 0
        assert [r.path for r in receiver.all()][2:] == ["/good"]
        by_url = {(d["webhookUrl"], d["eventName"]): d for d in flow.deliveries(case["id"])}
        bad = by_url[(receiver.url("/bad"), "create")]
        assert (bad["status"], bad["lastError"]) == ("failed", "unsubscribed")
        assert (receiver.url("/bad"), "comment") not in by_url
        assert by_url[(receiver.url("/good"), "comment")]["status"] == "delivered"

    def test_a_url_can_be_removed_as_the_listing_shows_it(
        self, flow: Taskflow, receiver: Receiver
    ) -> None:
        flow.webhook(receiver.url("/a?token=abc123"))
        (shown,) = flow.webhooks()
        assert flow.unsubscribe(shown["url"])
        assert flow.webhooks() == []

    def test_a_shown_url_naming_two_subscriptions_is_refused(
        self, flow: Taskflow, receiver: Receiver
    ) -> None:
        flow.webhook(receiver.url("/a?token=1"))
        flow.webhook(receiver.url("/a?token=2"))
        with pytest.raises(ValueError, match="2 webhooks"):
            flow.unsubscribe(receiver.url("/a?***"))
        assert len(flow.webhooks()) == 2

    def test_a_delivery_whose_webhook_is_gone_is_given_up_not_retried(
        self, flow: Taskflow, receiver: Receiver, store: Store, clock: Clock
    ) -> None:
        flow.webhook(receiver.url())
        case = flow.create({}, user=ALICE)
        relay = Relay(store, post, clock, timeout=1)
        eventually(lambda: relay.fan_out() > 0)
        claimed = relay.claim()
        assert claimed is not None
        with store.unit_of_work() as uow:
            uow.webhooks.remove(receiver.url())  # as a removal racing the claim would
            uow.commit()
        delivery, change, _ = claimed
        assert not relay.send_and_record(delivery, change, None)
        (gone,) = flow.deliveries(case["id"])
        assert gone["status"] == "failed"
        assert receiver.all() == []


class TestCredentials:
    """Issue 33, item 8: secrets sealed at rest, keys rotated, no credentials in logs."""

    def test_a_secret_is_stored_sealed_and_still_signs(
        self, flow: Taskflow, receiver: Receiver, store: Store
    ) -> None:
        flow.webhook(receiver.url(), secret=SECRET)
        flow.create({}, user=ALICE)
        with store.unit_of_work(read_only=True) as uow:
            stored = uow.webhooks.get(receiver.url())
        assert stored is not None
        assert stored.secret is not None
        assert stored.secret.startswith("sealed:v1:")
        assert SECRET.removeprefix("whsec_") not in stored.secret
        delivered(flow, receiver, 1)
        assert receiver.all()[0].signature_is_valid(SECRET)

    def test_a_relay_without_the_key_leaves_the_delivery_pending_with_the_reason(
        self, flow: Taskflow, receiver: Receiver, store: Store
    ) -> None:
        flow.webhook(receiver.url(), secret=SECRET)
        case = flow.create({}, user=ALICE)
        keyless = Taskflow(store, allow_private_webhooks=True)
        eventually(
            lambda: (
                bool(keyless.deliver_pending(timeout=1) == 0 and flow.deliveries(case["id"]))
                and flow.deliveries(case["id"])[0]["attempts"] >= 1
            )
        )
        (left,) = flow.deliveries(case["id"])
        assert left["status"] == "pending"
        assert "no key (TASKFLOW_SECRET_KEY)" in left["lastError"]
        assert receiver.all() == []

    def test_plain_secrets_are_sealed_and_old_keys_rotated_by_one_step(
        self, store: Store, receiver: Receiver, clock: Clock
    ) -> None:
        old = AesGcmSealer([b"o" * 32])
        Taskflow(store, allow_private_webhooks=True, plain_webhook_secrets=True).webhook(
            receiver.url("/plain"), secret="plain words"
        ).webhook(receiver.url("/bare")).create({})
        Taskflow(store, allow_private_webhooks=True, secrets=old).webhook(
            receiver.url("/old"), secret=SECRET
        ).create({})
        rotated = Taskflow(
            store,
            clock=clock,
            allow_private_webhooks=True,
            secrets=AesGcmSealer([b"n" * 32, b"o" * 32]),
        )
        assert rotated.seal_webhook_secrets() == 2
        assert rotated.seal_webhook_secrets() == 0  # nothing left to do
        with store.unit_of_work(read_only=True) as uow:
            found = {w.url: w.secret for w in uow.webhooks.all()}
        assert found[receiver.url("/bare")] is None
        current = AesGcmSealer([b"n" * 32])  # the old key is no longer needed
        assert current.open(found[receiver.url("/plain")] or "") == "plain words"
        assert current.open(found[receiver.url("/old")] or "") == SECRET
        rotated.create({}, user=ALICE)
        # Three creates to /plain and /bare, the last two to /old too (PostgreSQL may
        # hand /old the first as well: see test_a_webhook_takes_the_events_that_commit...).

        def all_arrived() -> bool:
            rotated.deliver_pending(timeout=2)
            return len(receiver.all("/plain")) == 3 and len(receiver.all("/old")) >= 2

        eventually(all_arrived)
        assert all(r.signature_is_valid("plain words") for r in receiver.all("/plain"))
        assert all(r.signature_is_valid(SECRET) for r in receiver.all("/old"))

    def test_log_lines_show_no_password_or_query_of_a_url(
        self, flow: Taskflow, receiver: Receiver, caplog: pytest.LogCaptureFixture
    ) -> None:
        url = receiver.url("/hook?token=abc123").replace("//", "//user:hunter2@")
        flow.webhook(url)
        receiver.default = (500, 0.0)
        with caplog.at_level(logging.WARNING, logger="taskflow_core.background.relay"):
            flow.create({}, user=ALICE)
            delivered(flow, receiver, 1)
        assert receiver.all()[0].headers["authorization"].startswith("Basic ")
        assert f"to http://***@127.0.0.1:{receiver.port}/hook?*** failed" in caplog.text
        assert "hunter2" not in caplog.text
        assert "abc123" not in caplog.text


class TestUrlCredentials:
    """Issue 33, item 8: a URL's user, password and query are sealed at rest like secrets;
    the subscription is still found by its whole URL."""

    @staticmethod
    def secretive(receiver: Receiver, path: str = "/in") -> str:
        return receiver.url(f"{path}?token=abc123").replace("//", "//user:hunter2@")

    def test_a_url_with_credentials_is_stored_sealed_and_its_receiver_still_gets_them(
        self,
        flow: Taskflow,
        store: Store,
        receiver: Receiver,
        request: pytest.FixtureRequest,
    ) -> None:
        url = self.secretive(receiver)
        flow.webhook(url, secret=SECRET)
        case = flow.create({}, user=ALICE)
        delivered(flow, receiver, 1)
        (got,) = receiver.accepted("/in?token=abc123")
        assert got.headers["authorization"] == "Basic " + base64.b64encode(b"user:hunter2").decode()
        assert got.query == "token=abc123"
        assert got.signature_is_valid(SECRET)
        dump = webhook_rows(store, request)
        for credential in ("hunter2", "abc123", base64.b64encode(b"user:hunter2").decode()):
            assert credential not in dump
        assert "sealed:v1:" in dump
        shown = receiver.url("/in?***").replace("//", "//***@")
        assert [w["url"] for w in flow.webhooks()] == [shown]
        assert [d["webhookUrl"] for d in flow.deliveries(case["id"])] == [shown]
        assert flow.unsubscribe(url)
        assert flow.webhooks() == []

    def test_a_relay_without_the_key_leaves_a_sealed_url_pending_with_the_reason(
        self, flow: Taskflow, store: Store, receiver: Receiver
    ) -> None:
        flow.webhook(self.secretive(receiver))
        case = flow.create({}, user=ALICE)
        keyless = Taskflow(store, allow_private_webhooks=True)

        def tried() -> bool:
            keyless.deliver_pending(timeout=1)
            found = flow.deliveries(case["id"])
            return bool(found) and found[0]["attempts"] >= 1

        eventually(tried)
        (left,) = flow.deliveries(case["id"])
        assert left["status"] == "pending"
        assert left["lastError"].startswith("the webhook's URL is sealed and this flow has no key")
        assert receiver.all() == []

    def test_urls_differing_only_in_their_credentials_are_two_subscriptions(
        self, flow: Taskflow, receiver: Receiver
    ) -> None:
        flow.webhook(receiver.url("/in?token=one"))
        flow.webhook(receiver.url("/in?token=two"))
        flow.create({}, user=ALICE)
        delivered(flow, receiver, 2)
        assert sorted(r.query for r in receiver.accepted()) == ["token=one", "token=two"]
        assert flow.unsubscribe(receiver.url("/in?token=one"))
        assert not flow.unsubscribe(receiver.url("/in?token=one"))
        assert len(flow.webhooks()) == 1

    def test_without_a_key_a_url_is_stored_as_given_with_one_warning_unless_refused(
        self,
        store: Store,
        receiver: Receiver,
        request: pytest.FixtureRequest,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        url = self.secretive(receiver)
        with pytest.raises(ValueError, match="no key"):
            Taskflow(store, allow_private_webhooks=True, plain_webhook_secrets=False).webhook(url)
        keyless = Taskflow(store, allow_private_webhooks=True)
        with caplog.at_level(logging.WARNING, logger="taskflow_core.application.subscriptions"):
            keyless.webhook(url).webhook(self.secretive(receiver, "/other"))
        assert caplog.text.count("stored as given") == 1
        case = keyless.create({}, user=ALICE)
        delivered(keyless, receiver, 2)
        assert len(receiver.accepted("/in?token=abc123")) == 1
        # The key the deliveries name holds no credential either: only the URL kept whole.
        with store.unit_of_work(read_only=True) as uow:
            kept = [w.target for w in uow.webhooks.all()]
            deliveries = uow.deliveries.for_case(case["id"])
        assert sorted(kept) == sorted([url, self.secretive(receiver, "/other")])
        assert not any("hunter2" in d.webhook_url for d in deliveries)
        assert webhook_rows(store, request).count("hunter2") == 2
        assert keyless.unsubscribe(url)

    def test_urls_stored_whole_before_are_moved_sealed_and_rotated_by_one_step(
        self,
        store: Store,
        receiver: Receiver,
        clock: Clock,
        request: pytest.FixtureRequest,
    ) -> None:
        url = self.secretive(receiver)
        old = AesGcmSealer([b"o" * 32])
        legacy = stored_whole(store, url)
        case = legacy.create({}, user=ALICE)
        delivered(legacy, receiver, 1)  # a delivery names the URL, credentials and all
        Taskflow(store, allow_private_webhooks=True, secrets=old).webhook(
            self.secretive(receiver, "/old")
        ).webhooks()  # saved, sealed under the old key
        assert "hunter2" in webhook_rows(store, request)
        rotated = Taskflow(
            store,
            clock=clock,
            allow_private_webhooks=True,
            secrets=AesGcmSealer([b"n" * 32, b"o" * 32]),
        )
        assert rotated.seal_webhook_secrets() == 2
        assert rotated.seal_webhook_secrets() == 0
        dump = webhook_rows(store, request)
        assert "hunter2" not in dump
        assert "abc123" not in dump
        with store.unit_of_work(read_only=True) as uow:
            targets = [w.target or "" for w in uow.webhooks.all()]
        current = AesGcmSealer([b"n" * 32])  # the old key is no longer needed
        assert sorted(current.open(t) for t in targets) == sorted(
            [url, self.secretive(receiver, "/old")]
        )
        # The moved subscription kept its place and its history: nothing is sent again.
        (moved,) = rotated.deliveries(case["id"])
        assert moved["status"] == "delivered"
        rotated.comment(case["id"], "after", user=ALICE)

        def both_got_it() -> bool:
            rotated.deliver_pending(timeout=2)
            return (
                len(receiver.accepted("/in?token=abc123")) == 2
                and len(receiver.accepted("/old?token=abc123")) >= 1
            )

        eventually(both_got_it)
        assert [r.message["type"] for r in receiver.accepted("/in?token=abc123")] == [
            "create",
            "comment",
        ]
        assert rotated.unsubscribe(url)

    def test_a_url_stored_whole_before_is_the_same_subscription_when_registered_again(
        self, store: Store, receiver: Receiver, request: pytest.FixtureRequest
    ) -> None:
        url = self.secretive(receiver)
        legacy = stored_whole(store, url)
        legacy.create({}, user=ALICE)
        flow = Taskflow(store, allow_private_webhooks=True, secrets=SEALER)
        flow.webhook(url, secret=SECRET)
        assert flow.webhooks() == [
            {
                "url": receiver.url("/in?***").replace("//", "//***@"),
                "events": ["*"],
                "signed": True,
            }
        ]
        assert "hunter2" not in webhook_rows(store, request)
        # Its place in the feed kept: the create before is sent, once, to the whole URL.
        delivered(flow, receiver, 1)
        (got,) = receiver.accepted("/in?token=abc123")
        assert got.message["type"] == "create"
        assert got.signature_is_valid(SECRET)
        assert flow.deliver_pending(timeout=2) == 0

    def test_a_url_stored_whole_before_is_removed_by_its_url(
        self, store: Store, receiver: Receiver
    ) -> None:
        url = self.secretive(receiver)
        legacy = stored_whole(store, url)
        assert Taskflow(store).unsubscribe(url)
        assert legacy.webhooks() == []

    def test_an_error_naming_the_url_is_kept_and_logged_without_its_credentials(
        self, store: Store, receiver: Receiver, caplog: pytest.LogCaptureFixture
    ) -> None:
        def failing(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> None:
            raise RuntimeError(f"cannot reach {url} (password {urlsplit(url).password})")

        url = self.secretive(receiver)
        flow = Taskflow(store, allow_private_webhooks=True, secrets=SEALER, send_webhook=failing)
        flow.webhook(url)
        case = flow.create({}, user=ALICE)
        with caplog.at_level(logging.WARNING, logger="taskflow_core.background.relay"):
            eventually(
                lambda: (
                    flow.deliver_pending(timeout=1) == 0
                    and bool(flow.deliveries(case["id"]))
                    and flow.deliveries(case["id"])[0]["attempts"] >= 1
                )
            )
        (failed,) = flow.deliveries(case["id"])
        shown = receiver.url("/in?***").replace("//", "//***@")
        assert failed["lastError"].startswith(f"RuntimeError: cannot reach {shown} (password ***")
        assert "hunter2" not in caplog.text + failed["lastError"]
        assert "abc123" not in caplog.text + failed["lastError"]


def stored_whole(store: Store, url: str) -> Taskflow:
    """A subscription to ``url`` as versions before keyed URLs stored it: under the whole URL,
    credentials and all; and a flow that sends to it."""
    with store.unit_of_work() as uow:
        uow.webhooks.register(Webhook(url=url, events=("*",), cursor=uow.changes.head()))
        uow.commit()
    return Taskflow(store, allow_private_webhooks=True)


class TestDeliveriesListing:
    def test_a_case_without_webhooks_has_no_deliveries(self, flow: Taskflow) -> None:
        case = flow.create({}, user=ALICE)
        assert flow.deliveries(case["id"]) == []

    def test_an_unknown_case_is_not_found(self, flow: Taskflow) -> None:
        with pytest.raises(NotFound):
            flow.deliveries("00000000-0000-4000-8000-000000000000")
        with pytest.raises(NotFound):
            flow.deliveries("nope")
