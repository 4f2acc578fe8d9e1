"""The guard every lookup by tracking number + proof shares (办件进度, 代办申请): a limit per sender,
a lock on a number after repeated wrong proofs (against guessing from many senders), and an audit
row for every lookup that reaches the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from services import audit, ratelimit
from services.context import Context
from services.errors import RateLimited

RATE_LIMITED_ANSWER = "查询过于频繁，请{minutes}分钟后再试；如有急事请拨打 12345 政务服务便民热线。"


@dataclass(frozen=True)
class LookupGuard:
    session: Session
    ctx: Context
    action: str  # the audit action, e.g. application.lookup
    keys: str  # the rate counters' prefix, e.g. lookup
    sender_id: str
    number: str

    def admit(self) -> None:
        """Count this lookup against the sender; RateLimited (audited) when the sender or the
        number is over its limit."""
        settings, window = self.ctx.settings, self.ctx.settings.lookup_window_seconds
        by_sender = ratelimit.hit(
            self.session,
            f"{self.keys}:sender:{self.sender_id}",
            limit=settings.lookup_limit_per_sender,
            window_seconds=window,
            now=self.ctx.now,
        )
        if not by_sender.allowed:
            raise self._refuse(by_sender.retry_after, "rate_limited")
        failures = ratelimit.current(
            self.session, self._failures_key, window_seconds=window, now=self.ctx.now
        )
        if failures.count >= settings.lookup_failures_per_number:
            raise self._refuse(failures.retry_after, "number_locked")

    def no_match(self, detail: dict[str, Any] | None = None) -> None:
        """A wrong proof or an unknown number: counted against the number, audited."""
        ratelimit.hit(
            self.session,
            self._failures_key,
            limit=self.ctx.settings.lookup_failures_per_number,
            window_seconds=self.ctx.settings.lookup_window_seconds,
            now=self.ctx.now,
        )
        self._record("no_match", detail)

    def found(self, detail: dict[str, Any]) -> None:
        self._record("found", detail)

    @property
    def _failures_key(self) -> str:
        return f"{self.keys}:failures:{self.number}"

    def _refuse(self, retry_after: int, result: str) -> RateLimited:
        self._record(result, None)
        return RateLimited(
            RATE_LIMITED_ANSWER.format(minutes=max(1, -(-retry_after // 60))), retry_after=retry_after
        )

    def _record(self, result: str, detail: dict[str, Any] | None) -> None:
        audit.record(
            self.session,
            at=self.ctx.now,
            actor=self.sender_id,
            action=self.action,
            target=self.number,
            result=result,
            detail=detail,
        )
