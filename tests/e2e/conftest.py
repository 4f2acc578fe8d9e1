"""The real stack for end-to-end tests: action server, Rasa server and gateway on free ports.

Everything runs as in production (core.stack starts the commands of `make run`), with a fresh
SQLite database and tracker store per test session. The gateway's WeChat account points at a
fake WeChat API on loopback, so WeChat conversations run against the real dialogue too.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent.parent / "channels"))  # wechat_fake

from wechat_fake import AES_KEY, APP_ID, APP_SECRET, TOKEN, FakeWeChatAPI, serve

from core.stack import UNTHROTTLED, Stack, running_stack
from services.staff import StaffDirectory

__all__ = ["ARTIFACTS", "STAFF_LOGIN", "STAFF_PASSWORD", "Stack"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Screenshots of the browser tests, for a person to look at.
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# The hotline agent every stack has, made as `python -m services users add` makes it.
STAFF_LOGIN, STAFF_NAME, STAFF_PASSWORD = "zy1001", "王芳", "青山-绿水-7391-遵义"


@pytest.fixture(scope="session")
def wechat_api() -> Iterator[tuple[FakeWeChatAPI, str]]:
    api = FakeWeChatAPI()
    with serve(api.app()) as url:
        yield api, url


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, wechat_api: tuple[FakeWeChatAPI, str]) -> Iterator[Stack]:
    wechat = {
        "token": SecretStr(TOKEN),
        "encoding_aes_key": SecretStr(AES_KEY),
        "app_id": APP_ID,
        "app_secret": SecretStr(APP_SECRET),
        "api_base_url": wechat_api[1],
        "send_backoff_seconds": 0.05,
    }
    with running_stack(tmp_path_factory.mktemp("stack"), {**UNTHROTTLED, "wechat": wechat}) as running:
        staff = StaffDirectory(running.services, running.settings.staff)
        staff.add(STAFF_LOGIN, STAFF_NAME, ["agent"], STAFF_PASSWORD, actor="cli:e2e")
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium through Playwright (no browser download)."""
    if not CHROMIUM.exists():
        pytest.skip("需要 Debian 的 chromium：bash scripts/setup_browser.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
