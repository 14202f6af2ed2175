"""Hook patterns: validation at registration and part-by-part matching."""

import pytest

from taskflow_core.domain.hooks import HookBus, matches, parse_pattern


class TestPatterns:
    @pytest.mark.parametrize(
        "pattern",
        ["create", "pre-create", "status:*:*", "pre-status:*:approved", "update-comment", "a:B:c"],
    )
    def test_valid_patterns_parse(self, pattern: str) -> None:
        assert parse_pattern(pattern) == tuple(pattern.split(":"))

    @pytest.mark.parametrize(
        "pattern", ["*", "*:x", "a::b", ":a", "a:", "1a", "a:b c", "a:-b", "a:b_c", "a:**", None]
    )
    def test_malformed_patterns_raise_value_error(self, pattern: object) -> None:
        with pytest.raises(ValueError, match="pattern"):
            parse_pattern(pattern)

    @pytest.mark.parametrize(
        ("pattern", "event", "expected"),
        [
            ("status:*:*", "status:new:open", True),
            ("status:*:open", "status:new:open", True),
            ("status:*:open", "status:new:closed", False),
            ("status:*", "status:new:open", False),
            ("status:*:*:*", "status:new:open", False),
            ("pre-status:*:*", "status:new:open", False),
            ("create", "pre-create", False),
        ],
    )
    def test_star_matches_exactly_one_part(self, pattern: str, event: str, expected: bool) -> None:
        assert matches(parse_pattern(pattern), tuple(event.split(":"))) is expected


class TestBus:
    def test_snapshot_keeps_the_hooks_of_its_moment(self) -> None:
        bus = HookBus()
        bus.register("create", print)
        before = bus.snapshot()
        bus.register("create", repr)
        assert before.matching("create") == (print,)
        assert bus.snapshot().matching("create") == (print, repr)

    def test_non_callable_hook_is_refused(self) -> None:
        with pytest.raises(TypeError):
            HookBus().register("create", "not a function")  # type: ignore[arg-type]
