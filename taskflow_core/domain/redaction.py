"""Secrets redaction: what the activity log must not keep of a request's user and payload."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Key fragments, matched case-insensitively anywhere in a key's name.
DEFAULT_SECRET_KEYS: tuple[str, ...] = (
    "token",
    "secret",
    "password",
    "authorization",
    "cookie",
    "apikey",
    "api_key",
    "api-key",
)
REDACTED = "[redacted]"


class Redactor:
    """Replaces the value of every key naming a secret, at any depth, with ``[redacted]``."""

    def __init__(self, fragments: Iterable[str] = DEFAULT_SECRET_KEYS) -> None:
        if isinstance(fragments, str):
            raise TypeError("redact takes a sequence of key fragments, not one string")
        self.fragments = tuple(fragment.lower() for fragment in fragments)
        if any(not isinstance(f, str) or not f for f in self.fragments):
            raise ValueError("redact takes non-empty key fragments")

    def is_secret(self, key: str) -> bool:
        lowered = key.lower()
        return any(fragment in lowered for fragment in self.fragments)

    def __call__(self, value: Any) -> Any:
        """A copy of a JSON value with secrets replaced; the value itself is left alone."""
        if not self.fragments:
            return value
        if isinstance(value, dict):
            return {
                key: REDACTED if self.is_secret(key) else self(item) for key, item in value.items()
            }
        if isinstance(value, list):
            return [self(item) for item in value]
        return value
