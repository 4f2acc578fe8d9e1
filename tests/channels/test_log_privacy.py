"""No log line names a resident: openids and web sender ids are inbox credentials, so logs carry a
keyed pseudonym; ID numbers, their tails, phone numbers and names are masked."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))  # wechat_fake, whatever pytest's import mode

from wechat_fake import Resident, free_port, make_settings

from channels.access_log import RedactIds
from channels.app import create_app
from services.log_privacy import log_text, pseudonym

OPENID = "oZunyiPrivacy0123456789abcd"
WEB_SENDER = "web:5f0c9e2b7d1a4c3e8b6a9d0f1e2c3b4a"
# A resident's message with all they might give away: name, ID number, its tail and a phone.
PERSONAL = "我叫张三丰，身份证11010519491231002X，后六位31002X，电话15800009119"
SECRETS = (OPENID, WEB_SENDER, "张三丰", "11010519491231002X", "31002X", "15800009119")
APP_SECRET = "test-app-secret"  # wechat_fake's; requests puts it in the token URL it failed on


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """The gateway's log lines, without the test client's own (httpx logs the URLs it requests)."""
    lines = (record.getMessage() for record in caplog.records)
    return "\n".join(line for line in lines if "http://testserver/" not in line)


def test_a_wechat_message_and_a_web_chat_leave_no_ids_or_personal_data_in_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    # Rasa and the WeChat API both unreachable, and no time for a passive reply: the turn is
    # logged, Rasa's failure is logged, and the customer-service send fails and is logged too.
    settings = make_settings(tmp_path, dead, reply_deadline_seconds=0.001, send_attempts=2)
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(settings)) as client:
        resident = Resident("", OPENID)
        params, body = resident.signed(resident.text_xml(PERSONAL))
        assert client.post("/wechat", params={**params, "openid": OPENID}, content=body).status_code == 200
        chat = {"sender_id": WEB_SENDER, "text": PERSONAL, "channel": "web"}
        assert client.post("/api/chat", json=chat).status_code == 200
        inbox = client.get("/api/chat/inbox", params={"sender_id": WEB_SENDER})
        assert inbox.status_code == 200
        deadline = time.monotonic() + 15
        while "wechat_send_failed" not in logged(caplog) and time.monotonic() < deadline:
            time.sleep(0.05)
    text = logged(caplog)
    assert "wechat_send_failed" in text
    # The lines are there, naming each resident by pseudonym.
    assert pseudonym(f"wechat:{OPENID}") in text and pseudonym(WEB_SENDER) in text
    for secret in (*SECRETS, APP_SECRET):
        assert secret not in text, secret


def test_log_text_keeps_the_question_and_masks_who_asks() -> None:
    assert log_text("低保要带哪些材料") == "低保要带哪些材料"
    masked = log_text(PERSONAL)
    assert masked.startswith("我叫张*丰")
    assert not any(secret in masked for secret in SECRETS)


def test_pseudonyms_are_stable_keyed_and_short() -> None:
    from pydantic import SecretStr

    one, other = SecretStr("key-one"), SecretStr("key-two")
    assert pseudonym(WEB_SENDER, secret=one) == pseudonym(WEB_SENDER, secret=one)
    assert pseudonym(WEB_SENDER, secret=one) != pseudonym(WEB_SENDER, secret=other)
    assert pseudonym(WEB_SENDER, secret=one) != pseudonym("web:someone-else", secret=one)
    assert len(pseudonym(WEB_SENDER, secret=one)) == 12


def access_line(path: str) -> str:
    """The line uvicorn's access log writes for ``path``, through the gateway's filter."""
    args = ("127.0.0.1:5000", "GET", path, "1.1", 200)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None
    )
    assert RedactIds().filter(record)
    return record.getMessage()


def test_the_access_log_names_no_resident_in_query_strings() -> None:
    line = access_line(f"/api/chat/inbox?sender_id={WEB_SENDER}&after=3")
    assert WEB_SENDER not in line and pseudonym(WEB_SENDER) in line and "after=3" in line
    line = access_line(f"/wechat?signature=s&timestamp=1&nonce=n&openid={OPENID}")
    assert OPENID not in line and pseudonym(f"wechat:{OPENID}") in line and "nonce=n" in line
    search = "/api/search?q=%E4%BD%8E%E4%BF%9D"
    assert access_line(search) == f'127.0.0.1:5000 - "GET {search} HTTP/1.1" 200'
