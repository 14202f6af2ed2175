"""When a request has arrived far enough for a thread to parse it without waiting."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from taskflow_cli.arrival import ArrivalLimits, bytes_needed

# gunicorn's defaults: a 4094-byte request line, 100 fields of at most 8190 bytes.
GUNICORN_DEFAULTS = SimpleNamespace(
    limit_request_line=4094, limit_request_fields=100, limit_request_field_size=8190
)
LIMITS = ArrivalLimits.from_config(GUNICORN_DEFAULTS, body=1000)
HEAD = b"POST / HTTP/1.1\r\nHost: x\r\n"


class TestTheHead:
    @pytest.mark.parametrize(
        "received",
        [
            b"",
            b"GET / HTTP/1.1",
            b"GET / HTTP/1.1\r\nHost: x\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\n\r",
        ],
    )
    def test_an_unfinished_head_needs_more(self, received: bytes) -> None:
        assert bytes_needed(received, LIMITS) is None

    def test_a_head_without_a_body_is_all_it_needs(self) -> None:
        received = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

        assert bytes_needed(received, LIMITS) == len(received)

    def test_bytes_after_the_head_of_a_bodiless_request_are_the_next_request(self) -> None:
        first = b"GET / HTTP/1.1\r\n\r\n"

        assert bytes_needed(first + b"GET /x HT", LIMITS) == len(first)

    @pytest.mark.parametrize(
        "received",
        [
            pytest.param(b"GET / HTTP/1.1\nHost", id="bare LF"),
            pytest.param(b"GET /" + b"a" * 4100, id="request line over the limit"),
            pytest.param(
                b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200_000, id="header block over the limit"
            ),
        ],
    )
    def test_a_head_the_parser_will_refuse_needs_nothing_more(self, received: bytes) -> None:
        assert bytes_needed(received, LIMITS) == len(received)

    @pytest.mark.parametrize(
        "request_bytes",
        [
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n",
            HEAD + b"Content-Length: 3\r\n\r\n{}\n",
        ],
    )
    def test_a_request_trickled_a_byte_at_a_time_is_judged_as_when_sent_at_once(
        self, request_bytes: bytes
    ) -> None:
        searched = 0
        for end in range(1, len(request_bytes) + 1):
            prefix = request_bytes[:end]
            needed = bytes_needed(prefix, LIMITS, searched)

            assert needed == bytes_needed(prefix, LIMITS)
            if needed is not None:
                break
            searched = end
        assert needed is not None

    def test_a_long_request_line_within_the_limit_is_waited_for(self) -> None:
        assert bytes_needed(b"GET /" + b"a" * 4000, LIMITS) is None


class TestTheBody:
    def test_a_body_of_known_length_within_the_limit_is_waited_for(self) -> None:
        head = HEAD + b"Content-Length: 10\r\n\r\n"

        assert bytes_needed(head + b"{", LIMITS) == len(head) + 10

    def test_the_content_length_field_name_is_case_insensitive(self) -> None:
        head = HEAD + b"content-LENGTH:  7 \r\n\r\n"

        assert bytes_needed(head, LIMITS) == len(head) + 7

    @pytest.mark.parametrize(
        "fields",
        [
            pytest.param(b"Content-Length: 1001\r\n", id="over the limit"),
            pytest.param(b"Transfer-Encoding: chunked\r\n", id="chunked"),
            pytest.param(b"Content-Length: 10\r\nExpect: 100-continue\r\n", id="expect"),
            pytest.param(b"Content-Length: 10\r\nContent-Length: 10\r\n", id="repeated"),
            pytest.param(b"Content-Length: -1\r\n", id="negative"),
            pytest.param(b"Content-Length: " + b"9" * 5000 + b"\r\n", id="absurd"),
        ],
    )
    def test_a_body_left_to_the_thread_is_not_waited_for(self, fields: bytes) -> None:
        head = HEAD + fields + b"\r\n"

        assert bytes_needed(head, LIMITS) == len(head)


@pytest.mark.parametrize(
    ("settings", "request_line"),
    [
        pytest.param({"limit_request_line": 0}, 8190, id="0 is gunicorn's unlimited"),
        pytest.param({"limit_request_line": 100_000}, 8190, id="capped as gunicorn caps it"),
        pytest.param({"limit_request_line": 100}, 100, id="a smaller limit"),
    ],
)
def test_limits_follow_gunicorns_settings(settings: dict[str, int], request_line: int) -> None:
    config = SimpleNamespace(**{**vars(GUNICORN_DEFAULTS), **settings})

    assert ArrivalLimits.from_config(config, body=0).request_line == request_line
