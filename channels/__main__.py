"""``python -m channels``: serve the gateway with uvicorn on the configured host and port."""

from __future__ import annotations

import uvicorn

from channels.access_log import log_config
from channels.app import create_app
from core.settings import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.gateway.host,
        port=settings.gateway.port,
        # The client address is channels.client_ip's to judge (ZY_GATEWAY__TRUSTED_PROXIES); uvicorn's
        # own X-Forwarded-For handling would believe any local process, and the limits would then
        # count whatever address it claimed.
        proxy_headers=False,
        log_config=log_config(),
    )


if __name__ == "__main__":
    main()
