"""The sign-in's signed cookies and its return addresses, without a provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from taskflow_falcon.return_paths import local_path
from taskflow_falcon.sessions import Signer

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECRET = "sixteen bytes at least"


class TestSigner:
    def test_a_signed_payload_reads_back_until_it_expires(self) -> None:
        signer = Signer(SECRET)
        value = signer.dumps("session", {"id": "alice"}, NOW + timedelta(hours=1))
        assert signer.loads("session", value, NOW) == {
            "id": "alice",
            "exp": int((NOW + timedelta(hours=1)).timestamp()),
        }
        assert signer.loads("session", value, NOW + timedelta(hours=1)) is None

    def test_a_value_signed_for_one_purpose_is_refused_for_another(self) -> None:
        signer = Signer(SECRET)
        value = signer.dumps("signin", {"id": "alice"}, NOW + timedelta(hours=1))
        assert signer.loads("session", value, NOW) is None

    def test_another_key_refuses_it(self) -> None:
        value = Signer(SECRET).dumps("session", {"id": "alice"}, NOW + timedelta(hours=1))
        assert Signer(SECRET + "!").loads("session", value, NOW) is None

    @pytest.mark.parametrize(
        "value", ["", ".", "a.b", "a.b.c", "é.é", "x" * 5000, "eyJ9.AAAA", None]
    )
    def test_malformed_values_are_refused_not_raised(self, value: str | None) -> None:
        assert Signer(SECRET).loads("session", value, NOW) is None

    def test_a_short_secret_is_refused(self) -> None:
        with pytest.raises(ValueError, match="16 bytes"):
            Signer("short")


class TestReturnAddresses:
    @pytest.mark.parametrize(
        "address", ["/ui", "/ui/", "/ui/cases/1?tab=log", "/ui/?q=a%20b&status=open"]
    )
    def test_a_page_of_this_site_is_kept(self, address: str) -> None:
        assert local_path(address) == address

    @pytest.mark.parametrize(
        "address",
        [
            None,
            "",
            "/",
            "/_changes",
            "//evil.example",
            "///evil.example",
            "https://evil.example/ui/",
            "/\\evil.example",
            "/ui/\\evil.example",
            "/%2F%2Fevil.example",
            "/ui/%5C%5Cevil.example",
            "/ui/%252F..%252F..",
            "/ui/../..//evil.example",
            "/ui/./x",
            "/ui\n/x",
            "/uix",
            "/ui@evil.example",
        ],
    )
    def test_anything_else_becomes_the_inbox(self, address: str | None) -> None:
        assert local_path(address) == "/ui/"
