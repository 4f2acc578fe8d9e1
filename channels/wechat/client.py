"""wechatpy's API client aimed at the configured base URL, with one shared access_token.

The token lives in one cache (Redis when configured, so every gateway process shares it) and is
fetched by a single refresher at a time: a thread lock in this process plus a Redis lock
(``SET NX PX``) across processes. Whoever waited re-reads the cache instead of fetching again,
so requests never cause a token fetch each; WeChat allows only 2000 fetches a day.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from redis import Redis
from redis.exceptions import LockError
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.redisstorage import RedisStorage

from core.settings import WeChatSettings

# Error codes that mean "this access_token is no longer valid".
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# Refresh this long before WeChat's expiry, so no send goes out with a token about to lapse.
_EARLY_SECONDS = 300
_LOCK_HOLD_SECONDS = 15


class ExpiringMemoryStorage(SessionStorage):
    """wechatpy's MemoryStorage ignores ``ttl``; a token cache must not."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[Any, float]] = {}

    def get(self, key: str, default: Any = None) -> Any:
        item = self._data.get(key)
        if item is None or item[1] <= time.monotonic():
            return default
        return item[0]

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        if value is not None:
            self._data[key] = (value, time.monotonic() + (ttl if ttl is not None else float("inf")))

    def delete(self, key: str) -> None:
        self._data.pop(key, None)


class GatewayWeChatClient(WeChatClient):
    """Synchronous (wechatpy uses requests): call it from a worker thread in async code."""

    def __init__(self, settings: WeChatSettings, redis: Redis | None = None) -> None:
        storage = (
            RedisStorage(redis, prefix=f"{settings.redis_prefix}token")
            if redis is not None
            else ExpiringMemoryStorage()
        )
        super().__init__(
            settings.app_id,
            settings.app_secret.get_secret_value(),
            session=storage,
            timeout=settings.api_timeout_seconds,
            # Token errors are handled by the caller (invalidate, then retry), not by a refetch here.
            auto_retry=False,
        )
        base = settings.api_base_url.rstrip("/")
        # wechatpy builds every API URL from this attribute; an instance attribute overrides the class's.
        self.API_BASE_URL = f"{base}/cgi-bin/"
        self._token_url = f"{base}/cgi-bin/token"
        self._redis = redis
        self._lock_name = f"{settings.redis_prefix}token-refresh"
        self._thread_lock = threading.Lock()

    @property
    def access_token(self) -> str:
        token = self.session.get(self.access_token_key)
        if token:
            return str(token)
        with self._single_refresher():
            token = self.session.get(self.access_token_key)  # another refresher may have just finished
            if not token:
                token = self.fetch_access_token()["access_token"]
        return str(token)

    def fetch_access_token(self) -> dict[str, Any]:
        """One call to /cgi-bin/token; wechatpy's own version has no timeout and a fixed host."""
        response = self._http.get(
            self._token_url,
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            timeout=self.timeout,
        )
        if not 200 <= response.status_code < 300:
            raise WeChatClientException(None, f"{self._token_url} answered HTTP {response.status_code}")
        result: dict[str, Any] = response.json()
        if result.get("errcode") or not result.get("access_token"):
            raise WeChatClientException(result.get("errcode"), f"token fetch refused: {result.get('errmsg')}")
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"], max(expires_in - _EARLY_SECONDS, 60))
        return result

    def invalidate(self, token: str) -> None:
        """Forget ``token`` after WeChat refused it, unless someone already replaced it."""
        if self.session.get(self.access_token_key) == token:
            self.session.delete(self.access_token_key)

    @contextmanager
    def _single_refresher(self) -> Iterator[None]:
        with self._thread_lock:
            if self._redis is None:
                yield
                return
            lock = self._redis.lock(
                self._lock_name, timeout=_LOCK_HOLD_SECONDS, blocking_timeout=_LOCK_HOLD_SECONDS
            )
            if not lock.acquire():
                raise WeChatClientException(None, "waited too long for another gateway's token refresh")
            try:
                yield
            finally:
                with suppress(LockError):  # held past its timeout: someone else owns it now
                    lock.release()
