"""Everything the WeChat endpoint needs, built once per gateway process from the settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis

from channels.wechat.client import GatewayWeChatClient
from channels.wechat.delivery import Delivery, failure_log
from channels.wechat.dispatch import WeChatDispatcher
from channels.wechat.halls import HallDirectory
from channels.wechat.protocol import WeChatProtocol
from channels.wechat.store import Store, make_store
from core.settings import Settings

_DRAIN_SECONDS = 10.0


@dataclass
class WeChatRuntime:
    protocol: WeChatProtocol
    dispatcher: WeChatDispatcher
    delivery: Delivery
    client: GatewayWeChatClient
    store: Store
    token_redis: Redis | None

    @classmethod
    def from_settings(
        cls, settings: Settings, suggestions: Callable[[], list[str]] | None = None
    ) -> WeChatRuntime:
        wechat = settings.wechat
        store = make_store(wechat.redis_url, wechat.redis_prefix)
        # wechatpy is synchronous, so its token cache needs the blocking Redis client.
        token_redis = Redis.from_url(wechat.redis_url) if wechat.redis_url else None
        client = GatewayWeChatClient(wechat, token_redis)
        delivery = Delivery(client, failure_log(wechat, store), wechat)
        busy = f"系统繁忙，请稍后再试；急事请拨打政务服务热线 {settings.gateway.hotline}。"
        halls = HallDirectory.load(settings.knowledge.halls_file)
        dispatcher = WeChatDispatcher(wechat, store, delivery, halls, busy, suggestions)
        return cls(WeChatProtocol(wechat), dispatcher, delivery, client, store, token_redis)

    async def close(self) -> None:
        await self.delivery.drain(_DRAIN_SECONDS)
        await self.store.close()
        if self.token_redis is not None:
            self.token_redis.close()
