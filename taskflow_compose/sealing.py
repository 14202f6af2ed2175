"""The AES-GCM sealer of webhook secrets, keyed from the environment.

``TASKFLOW_SECRET_KEY``: the current key, 32 random bytes in base64 (``python -c "import
os, base64; print(base64.b64encode(os.urandom(32)).decode())"``). ``TASKFLOW_SECRET_KEYS_OLD``:
earlier keys, comma-separated, which still open what they sealed until ``taskflow migrate``
re-seals it under the current one. A sealed secret is ``sealed:v1:<key id>:<base64 of nonce
and ciphertext>``; the key id (8 hex digits of the key's SHA-256) says which key opens it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from taskflow_core.application.sealing import SEALED

from .environment import SECRET_KEY_ENV, SECRET_KEYS_OLD_ENV

_VERSION = "v1"
# Binds a sealed value to its use: a sealed webhook secret (or webhook URL, sealed alike) is
# not a valid sealed anything else.
_PURPOSE = b"taskflow webhook secret"
_NONCE = 12


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


class AesGcmSealer:
    """Seals with ``keys[0]``; opens with any of ``keys``."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys or any(len(key) != 32 for key in keys):
            raise ValueError("a secret key is 32 bytes (base64 of 32 random bytes)")
        self._keys = {key_id(key): AESGCM(key) for key in keys}
        self._current = key_id(keys[0])

    def seal(self, secret: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._keys[self._current].encrypt(nonce, secret.encode(), _PURPOSE)
        text = base64.b64encode(nonce + sealed).decode()
        return f"{SEALED}{_VERSION}:{self._current}:{text}"

    def open(self, sealed: str) -> str:
        version, _, rest = sealed.removeprefix(SEALED).partition(":")
        kid, _, text = rest.partition(":")
        if version != _VERSION or kid not in self._keys:
            raise ValueError(f"sealed under key {kid or '?'}, which is not given")
        try:
            raw = base64.b64decode(text, validate=True)
            return self._keys[kid].decrypt(raw[:_NONCE], raw[_NONCE:], _PURPOSE).decode()
        except (binascii.Error, InvalidTag, UnicodeDecodeError) as exc:
            raise ValueError("the sealed secret is damaged") from exc

    def is_current(self, sealed: str) -> bool:
        return sealed.startswith(f"{SEALED}{_VERSION}:{self._current}:")


def decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except binascii.Error as exc:
        raise ValueError("a secret key is base64 of 32 random bytes") from exc
    if len(key) != 32:
        raise ValueError("a secret key is base64 of 32 random bytes")
    return key


def sealer_from_environment() -> AesGcmSealer | None:
    """The sealer ``TASKFLOW_SECRET_KEY`` (and ``TASKFLOW_SECRET_KEYS_OLD``) make; None when
    no key is set."""
    current = os.environ.get(SECRET_KEY_ENV, "").strip()
    if not current:
        return None
    old = [k for k in os.environ.get(SECRET_KEYS_OLD_ENV, "").split(",") if k.strip()]
    return AesGcmSealer([decode_key(current), *(decode_key(k) for k in old)])
