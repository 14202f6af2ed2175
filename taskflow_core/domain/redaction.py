"""Secrets redaction: what the activity log must not keep of a request's user and payload.

And what it keeps of the user at all. By default, the whole user object (secrets redacted),
as the original kept it: services reading ``event.meta.user`` from the log or the feed go on
working. But the log is shown to every user who may read the case, so a host whose user
objects carry personal data (e-mail addresses, names, claims) names what to keep:
``Taskflow(store, user_fields=("profile.id", "roles"))`` (docs/hosting.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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


_MISSING = object()


class Redactor:
    """Replaces the value of every key naming a secret, at any depth, with ``[redacted]``;
    with ``user_fields``, keeps only those (dotted paths) of a request's user."""

    def __init__(
        self,
        fragments: Iterable[str] = DEFAULT_SECRET_KEYS,
        user_fields: Iterable[str] | None = None,
    ) -> None:
        if isinstance(fragments, str):
            raise TypeError("redact takes a sequence of key fragments, not one string")
        self.fragments = tuple(fragment.lower() for fragment in fragments)
        if any(not isinstance(f, str) or not f for f in self.fragments):
            raise ValueError("redact takes non-empty key fragments")
        self.user_fields = None if user_fields is None else _paths(user_fields)

    def user(self, user: Any) -> Any:
        """What the log keeps of a request's user, before secrets are redacted from it: all
        of it, or only ``user_fields`` (as a mapping of the same shape)."""
        if self.user_fields is None or user is None:
            return user
        kept: dict[str, Any] = {}
        for path in self.user_fields:
            value = _at(user, path)
            if value is _MISSING:
                continue
            into = kept
            for part in path[:-1]:
                into = into.setdefault(part, {})
            into[path[-1]] = value
        return kept

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


def _paths(fields: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    if isinstance(fields, str):
        raise TypeError("user_fields takes a sequence of dotted paths, not one string")
    paths = []
    for field in fields:
        parts = tuple(field.split(".")) if isinstance(field, str) else ()
        if not parts or not all(parts):
            raise ValueError(f"user_fields takes dotted paths such as 'profile.id', not {field!r}")
        paths.append(parts)
    return tuple(paths)


def _at(user: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path``: keys of a mapping, attributes of an object (as actor ids)."""
    value = user
    for part in path:
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        else:
            value = getattr(value, part, _MISSING)
        if value is _MISSING:
            return _MISSING
    return value
