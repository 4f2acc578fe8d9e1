"""Per-client-address limits on the public API, one allowance per route family.

A route opts in with ``dependencies=[limited("lookups")]``; a client over its allowance gets 429
with Retry-After and the Chinese error body every other refusal has (``RateLimited`` is mapped by
``ChineseErrorsRoute``). The allowances are ``ZY_GATEWAY__IP_LIMITS__<FAMILY>``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Depends, Request

from channels.client_ip import client_ip, limit_key
from channels.throttle import Throttle
from core.settings import GatewaySettings, get_settings
from services.errors import RateLimited

Family = Literal["chat", "search", "inbox", "feedback", "tickets", "lookups", "bookings"]

# What a refused client reads, {wait} being how long until it may try again.
MESSAGES: dict[Family, str] = {
    "bookings": "从您的网络提交的预约太多了，请{wait}再试；如需帮助请拨打 {hotline}。",
    "lookups": "查询太频繁了，请{wait}再试；如需帮助请拨打 {hotline}。",
    "tickets": "提交太频繁了，请{wait}再试；急事请拨打 {hotline}。",
}
DEFAULT_MESSAGE = "您的操作太频繁了，请{wait}再试。"


def wait_phrase(seconds: int) -> str:
    """约3分钟后 — rounded up, so that trying again then succeeds."""
    if seconds < 60:
        return f"{seconds}秒后"
    if seconds < 3600:
        return f"约{-(-seconds // 60)}分钟后"
    return f"约{-(-seconds // 3600)}小时后"


class IpLimits:
    """One throttle per route family, keyed by client address (an IPv6 client by its /64)."""

    def __init__(self, settings: GatewaySettings) -> None:
        self._hotline = settings.hotline
        rates = settings.ip_limits.model_dump()
        self._throttles = {
            family: Throttle(f"ip-{family}", rate, settings.redis_url) for family, rate in rates.items()
        }

    async def check(self, family: Family, address: str) -> None:
        """Counts the request; raises RateLimited when the address has used up the family's allowance."""
        decision = await self._throttles[family].check(limit_key(address))
        if not decision.allowed:
            message = MESSAGES.get(family, DEFAULT_MESSAGE)
            raise RateLimited(
                message.format(wait=wait_phrase(decision.retry_after), hotline=self._hotline),
                retry_after=decision.retry_after,
            )


def _ip_limits(request: Request) -> IpLimits:
    """The app's limits, made on first use from ``app.state.settings`` (else the process settings)."""
    state = request.app.state
    limits: IpLimits | None = getattr(state, "ip_limits", None)
    if limits is None:
        settings = getattr(state, "settings", None) or get_settings()
        limits = state.ip_limits = IpLimits(settings.gateway)
    return limits


def limited(family: Family) -> Any:
    """A route dependency counting each request against the client address's ``family`` allowance."""

    async def check(request: Request) -> None:
        await _ip_limits(request).check(family, client_ip(request))

    return Depends(check)
