"""What every domain function needs besides its session: settings, the key, and "now"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from core.settings import ServicesSettings
from services.identity import keyed_hash


@dataclass(frozen=True)
class Context:
    """One call's view of the world; ``now`` is fixed for the call so every row agrees on it."""

    settings: ServicesSettings
    now: dt.datetime
    _secret: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_secret", self.settings.secret_key.get_secret_value().encode())

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def hash(self, purpose: str, value: str) -> str:
        return keyed_hash(self._secret, purpose, value)

    @property
    def audit_key(self) -> bytes:
        """The audit log's hash-chain key: derived from the secret (never stored), so whoever edits
        the table without the application's secret cannot rebuild the chain."""
        return bytes.fromhex(self.hash("audit-chain", "v1"))
