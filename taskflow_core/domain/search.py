"""Search words (docs/finding.md): how ``q`` and a case's text split into words, and how the
memory store matches them. The SQL stores split text the same way in their indexes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..errors import InvalidRequest

# A word is a run of letters and digits (Unicode): \w without the underscore.
_WORD = re.compile(r"[^\W_]+")
# Bounds on ``q``, so that no search asks a store for more than a few index lookups: a
# search box never needs more, and a 10,000-character ``q`` is refused rather than planned.
MAX_SEARCH_LENGTH = 500
MAX_SEARCH_WORDS = 16
# The longest word the PostgreSQL index keeps (its parser drops longer ones): a longer
# ``q`` word could only ever match on some stores, so it is refused everywhere.
MAX_WORD_LENGTH = 200


def words(text: str) -> list[str]:
    """The words of ``text``, lowercased, in order."""
    return _WORD.findall(text.lower())


def search_words(value: Any) -> tuple[str, ...]:
    """The distinct words of ``q``, validated; empty when ``q`` has none (then it is ignored)."""
    if value is None:
        return ()
    if not isinstance(value, str):
        raise InvalidRequest("q must be a string", {"q": "invalid"})
    if len(value) > MAX_SEARCH_LENGTH:
        raise InvalidRequest(
            f"q must be at most {MAX_SEARCH_LENGTH} characters long", {"q": "too long"}
        )
    found = tuple(dict.fromkeys(words(value)))
    if len(found) > MAX_SEARCH_WORDS:
        raise InvalidRequest(f"q must have at most {MAX_SEARCH_WORDS} words", {"q": "too long"})
    if any(len(word) > MAX_WORD_LENGTH for word in found):
        raise InvalidRequest(
            f"a word of q must be at most {MAX_WORD_LENGTH} characters long", {"q": "too long"}
        )
    return found


def strings(value: Any) -> Iterator[str]:
    """Every string value in a JSON document (object keys are not values)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def matches(search: tuple[str, ...], texts: list[str]) -> bool:
    """Whether every word of ``search`` starts a word of one of ``texts``."""
    found = {word for text in texts for word in words(text)}
    return all(any(word.startswith(prefix) for word in found) for prefix in search)
