"""Tokens whose signature was already checked: a bounded cache that lets ``JwtBearer`` skip
the signature (most of a request's verification cost: 0.07 ms for ES256, benchmarks/auth.py)
when the same token comes again, and nothing else.

An entry is keyed by the SHA-256 of the whole token, so a token differing by one character
(tampered, re-signed) is a miss and verified in full, and no signature is held: nothing in
the cache is a usable token. It keeps the key that verified it, and is used only while the
key set still holds that very key under the token's ``kid`` (a key withdrawn or replaced on
a refresh ends its tokens' entries). The claims are checked again on every use (``exp``,
``nbf``, ``aud``, ``iss``: an expired token is refused however it was cached), and at most
``size`` entries are kept, the least recently used dropped first.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, NamedTuple

DEFAULT_SIZE = 10_000


class Verified(NamedTuple):
    """What a token's first verification established: the key that signed it (the
    ``(algorithm, key)`` pair of the key set, compared by identity), its ``kid`` and its
    payload segment, decoded again on each use so no caller shares a claims object."""

    found: tuple[str, Any]
    kid: str | None
    payload: str


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()


class VerifiedTokens:
    """At most ``size`` verified tokens, least recently used dropped first. Thread-safe."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError("a cache of verified tokens holds at least one")
        self.size = size
        self._entries: OrderedDict[bytes, Verified] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes) -> Verified | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: bytes, entry: Verified) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def drop(self, key: bytes) -> None:
        with self._lock:
            self._entries.pop(key, None)
