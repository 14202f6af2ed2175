"""What the client makes of answers that are no taskflow answer, of answers that say to try
again, and of no answer at all: a clear exception naming what happened, retries only where
they are safe, and every retry of a write under the key of its first attempt."""

from __future__ import annotations

import time

import pytest

from taskflow_client import (
    Client,
    RequestTimeout,
    ServerError,
    TransportError,
    Unauthorized,
    UnexpectedResponse,
)
from taskflow_core import Conflict, InvalidRequest, NotFound
from tests.client.canned import answer, canned, json_answer
from tests.client.conftest import QUICK
from tests.e2e.serving import free_port

CASE = '{"data": {"id": "c1", "status": "new", "version": 1}}'
IN_FLIGHT = (
    '{"message": "A request with this idempotency key is still running; retry it later", '
    '"errors": {"Idempotency-Key": "running"}}'
)


def client(url: str, **options: object) -> Client:
    return Client(url, backoff=QUICK, **options)  # type: ignore[arg-type]


class TestAnswersThatAreNoTaskflowAnswer:
    def test_an_html_page_names_its_type_and_is_not_retried(self) -> None:
        page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        with (
            canned(answer("200 OK", page, "text/html")) as server,
            pytest.raises(UnexpectedResponse) as raised,
        ):
            client(server.url).get("c1")
        assert "answered 200 with text/html, not JSON" in raised.value.message
        assert "502 Bad Gateway" in raised.value.message
        assert len(server.requests) == 1

    def test_a_body_cut_short_is_a_broken_connection_retried_under_one_key(self) -> None:
        cut = answer("200 OK", CASE.encode(), "application/json")[:-10]
        with canned(cut) as server, pytest.raises(TransportError) as raised:
            client(server.url, retries=2).create({"a": 1})
        assert "closed before the whole answer arrived" in raised.value.message
        assert "after 3 attempts" in raised.value.message
        keys = {server.headers(n)["idempotency-key"] for n in range(3)}
        assert len(server.requests) == 3
        assert len(keys) == 1

    def test_malformed_json_of_the_right_length_is_named_so(self) -> None:
        with (
            canned(json_answer("200 OK", '{"data": {"id": "c1"')) as server,
            pytest.raises(UnexpectedResponse, match="malformed or truncated JSON"),
        ):
            client(server.url).get("c1")

    def test_a_500_without_json_names_the_status_and_is_not_retried(self) -> None:
        with (
            canned(
                answer("500 Internal Server Error", b"Internal Server Error", "text/plain")
            ) as server,
            pytest.raises(UnexpectedResponse) as raised,
        ):
            client(server.url).create({})
        assert raised.value.status == 500
        assert "answered 500 with text/plain" in raised.value.message
        assert len(server.requests) == 1

    def test_a_500_with_taskflows_body_is_a_server_error_not_retried(self) -> None:
        with (
            canned(
                json_answer("500 Internal Server Error", '{"message": "Internal server error"}')
            ) as server,
            pytest.raises(ServerError, match="answered 500: Internal server error"),
        ):
            client(server.url).create({})
        assert len(server.requests) == 1

    def test_a_redirect_to_another_host_is_not_followed(self) -> None:
        moved = answer("302 Found", b"", Location="http://elsewhere.example/")
        with canned(moved) as server, pytest.raises(UnexpectedResponse) as raised:
            client(server.url, token="secret").create({})
        assert "redirect to http://elsewhere.example/" in raised.value.message
        assert "not followed" in raised.value.message
        assert len(server.requests) == 1

    def test_json_that_is_no_taskflow_error_is_named_so(self) -> None:
        with (
            canned(json_answer("404 Not Found", '["what"]')) as server,
            pytest.raises(UnexpectedResponse, match="no taskflow error"),
        ):
            client(server.url).get("c1")


class TestNoAnswer:
    def test_a_server_slower_than_the_timeout_is_a_timeout_after_the_retries(self) -> None:
        with canned(json_answer("200 OK", CASE), delay=1.5) as server:
            started = time.monotonic()
            with pytest.raises(RequestTimeout) as raised:
                client(server.url, timeout=0.3, retries=1).get("c1")
            elapsed = time.monotonic() - started
        assert "no answer within 0.3 s (after 2 attempts)" in raised.value.message
        assert elapsed < 1.5

    def test_no_server_is_a_connection_failure(self) -> None:
        with pytest.raises(TransportError, match="could not connect"):
            client(f"http://127.0.0.1:{free_port()}", retries=1).get("c1")

    def test_retries_zero_sends_once(self) -> None:
        cut = answer("200 OK", CASE.encode(), "application/json")[:-10]
        with canned(cut) as server, pytest.raises(TransportError):
            client(server.url, retries=0).create({})
        assert len(server.requests) == 1


class TestAnswersThatSayTryAgain:
    def test_a_503_is_retried_under_the_same_key(self) -> None:
        busy = json_answer("503 Service Unavailable", '{"message": "retry later"}')
        with canned(busy, json_answer("200 OK", CASE)) as server:
            case = client(server.url).create({"a": 1})
        assert case["id"] == "c1"
        assert len(server.requests) == 2
        assert server.headers(0)["idempotency-key"] == server.headers(1)["idempotency-key"]

    def test_503s_past_the_retries_are_a_server_error(self) -> None:
        busy = json_answer("503 Service Unavailable", '{"message": "retry later"}')
        with (
            canned(busy) as server,
            pytest.raises(ServerError, match=r"503.*after 3 attempts"),
        ):
            client(server.url, retries=2).get("c1")

    def test_the_in_flight_twins_409_is_retried(self) -> None:
        with canned(json_answer("409 Conflict", IN_FLIGHT), json_answer("200 OK", CASE)) as server:
            case = client(server.url).create({}, idempotency_key="mine")
        assert case["id"] == "c1"
        assert [server.headers(n)["idempotency-key"] for n in range(2)] == ["mine", "mine"]

    def test_any_other_409_is_the_conflict_raised_at_once(self) -> None:
        refused = json_answer(
            "409 Conflict", '{"message": "no", "errors": {"status": ["submitted"]}}'
        )
        with canned(refused) as server, pytest.raises(Conflict) as raised:
            client(server.url).set_status("c1", "approved")
        assert raised.value.errors == {"status": ["submitted"]}
        assert len(server.requests) == 1


class TestWhatIsSent:
    def test_token_key_version_and_headers(self) -> None:
        with canned(json_answer("200 OK", CASE)) as server:
            client(server.url, token="t0k", headers={"X-Trace": "1"}).set_status(
                "c 1/..", "submitted", expected_version=4, idempotency_key="k-1"
            )
        sent = server.headers(0)
        assert sent["authorization"] == "Bearer t0k"
        assert sent["x-trace"] == "1"
        assert sent["if-match"] == '"4"'
        assert sent["idempotency-key"] == "k-1"
        assert server.requests[0].startswith(b"PUT /c%201%2F../status HTTP/1.1")

    def test_each_call_makes_its_own_key(self) -> None:
        with canned(json_answer("200 OK", CASE)) as server:
            remote = client(server.url)
            remote.create({})
            remote.create({})
        assert server.headers(0)["idempotency-key"] != server.headers(1)["idempotency-key"]

    def test_a_read_sends_no_key(self) -> None:
        with canned(json_answer("200 OK", CASE)) as server:
            client(server.url).get("c1")
        assert "idempotency-key" not in server.headers(0)

    @pytest.mark.parametrize(
        ("status", "error"),
        [("401 Unauthorized", Unauthorized), ("404 Not Found", NotFound),
         ("413 Content Too Large", InvalidRequest)],
    )  # fmt: skip
    def test_statuses_map_to_their_errors(self, status: str, error: type[Exception]) -> None:
        with (
            canned(json_answer(status, '{"message": "no"}')) as server,
            pytest.raises(error, match="no"),
        ):
            client(server.url).get("c1")


class TestBulk:
    """``POST /_bulk`` keeps its answer under the request's key (docs/bulk.md), so a batch
    whose answer was lost is sent again under the same key, as every write is."""

    BULK = '{"data": [], "meta": {"bulk": "b1", "count": 0, "succeeded": 0, "failed": 0}}'

    def test_a_lost_answer_is_sent_again_under_the_same_key(self) -> None:
        cut = answer("200 OK", self.BULK.encode(), "application/json")[:-10]
        with canned(cut, json_answer("200 OK", self.BULK)) as server:
            done = client(server.url).bulk({"status": "submitted"}, ids=["c1"])
        assert done["meta"]["bulk"] == "b1"
        assert len(server.requests) == 2
        keys = {server.headers(n)["idempotency-key"] for n in range(2)}
        assert len(keys) == 1

    def test_a_dry_run_is_sent_again(self) -> None:
        cut = answer("200 OK", self.BULK.encode(), "application/json")[:-10]
        with canned(cut, json_answer("200 OK", self.BULK)) as server:
            done = client(server.url).bulk({"status": "x"}, ids=["c1"], dry_run=True)
        assert done["meta"]["bulk"] == "b1"
        assert len(server.requests) == 2

    def test_a_503_kept_nothing_and_is_sent_again(self) -> None:
        busy = json_answer("503 Service Unavailable", '{"message": "retry later"}')
        with canned(busy, json_answer("200 OK", self.BULK)) as server:
            client(server.url).bulk({"comment": "hi"}, query={"status": ["new"]})
        assert len(server.requests) == 2
        assert b'"query":{"status":["new"]}' in server.requests[0]


class TestExport:
    def test_cases_are_read_line_by_line(self) -> None:
        lines = b'{"id": "c1"}\n\n{"id": "c2"}\n'
        with canned(answer("200 OK", lines, "application/x-ndjson")) as server:
            cases = list(client(server.url).export({"status": ["new"]}))
        assert [c["id"] for c in cases] == ["c1", "c2"]
        assert server.requests[0].startswith(b"GET /_export?format=ndjson&status%5B%5D=new ")

    def test_an_error_answer_is_the_flows_error(self) -> None:
        refused = json_answer("400 Bad Request", '{"message": "limit is no number"}')
        with canned(refused) as server, pytest.raises(InvalidRequest, match="no number"):
            list(client(server.url).export())

    def test_a_line_that_is_no_json_is_named(self) -> None:
        with (
            canned(answer("200 OK", b'{"id": "c1"}\n<html>', "application/x-ndjson")) as server,
            pytest.raises(UnexpectedResponse, match="a line that is not JSON: <html>"),
        ):
            list(client(server.url).export())
