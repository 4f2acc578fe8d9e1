"""``python -m channels``: serve the gateway with uvicorn on the configured host and port."""

from __future__ import annotations

import uvicorn

from channels.app import create_app
from core.settings import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.gateway.host, port=settings.gateway.port)


if __name__ == "__main__":
    main()
