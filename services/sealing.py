"""AES-GCM sealing of a personal value under a key derived from the services secret (never
stored), bound to the row it belongs to so a sealed value cannot be moved to another row."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.context import Context

_NONCE_BYTES = 12


def seal(ctx: Context, value: str, bound: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    return base64.b64encode(nonce + AESGCM(_key(ctx)).encrypt(nonce, value.encode(), bound.encode())).decode()


def unseal(ctx: Context, sealed: str, bound: str) -> str | None:
    """The value; None when it was sealed for another row or under a secret since rotated."""
    raw = base64.b64decode(sealed)
    try:
        return AESGCM(_key(ctx)).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], bound.encode()).decode()
    except InvalidTag:
        return None


def _key(ctx: Context) -> bytes:
    """AES-256 key derived from the services secret."""
    return bytes.fromhex(ctx.hash("hold-key", "v1"))
