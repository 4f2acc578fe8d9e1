"""WeChat conversations answered by the real Rasa and action server (no CannedTurns).

wechatpy builds the signed and AES-encrypted requests (safe mode) and reads the encrypted
replies; answers longer than one passive reply arrive at the fake WeChat API on loopback as
customer-service sends, so a resident's answer is the passive reply plus those sends.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "channels"))  # wechat_fake

from wechat_fake import FakeWeChatAPI, Resident

from channels.wechat import inbound
from core.stack import Stack

pytestmark = pytest.mark.e2e

SEND_WAIT_SECONDS = 15


def resident(stack: Stack) -> Resident:
    return Resident(stack.url, f"oReal{uuid.uuid4().hex[:16]}", "safe")


def answer(someone: Resident, api: FakeWeChatAPI, xml: str) -> str:
    """The passive reply and whatever follows through the customer-service API, in order."""
    before = len(api.texts_to(someone.openid))
    passive = someone.read(someone.post(xml))
    parts = [passive] if passive is not None else []
    # A split answer (or one past the deadline) sends its remaining parts right after the reply.
    deadline = time.monotonic() + (SEND_WAIT_SECONDS if passive is None else 1.0)
    while time.monotonic() < deadline:
        if len(api.texts_to(someone.openid)) > before and passive is None:
            time.sleep(0.5)  # the other parts of the same answer
            break
        time.sleep(0.05)
    return "\n".join([*parts, *api.texts_to(someone.openid)[before:]])


def ask(someone: Resident, api: FakeWeChatAPI, text: str) -> str:
    return answer(someone, api, someone.text_xml(text))


def test_subscribe_gets_the_welcome(stack: Stack, wechat_api: tuple[FakeWeChatAPI, str]) -> None:
    someone = resident(stack)
    assert answer(someone, wechat_api[0], someone.event_xml("subscribe", "")) == inbound.WELCOME


def test_question_gets_the_guide_with_numbered_options_and_a_number_picks_one(
    stack: Stack, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    api = wechat_api[0]
    someone = resident(stack)
    fee = ask(someone, api, "新农合今年交好多钱")
    assert "城乡居民基本医疗保险参保缴费" in fee and "元" in fee
    assert "来源：城乡居民基本医疗保险参保缴费" in fee and "示例数据" in fee
    assert "回复 1 预约办理" in fee and "回复 2 全部材料" in fee

    materials = ask(someone, api, "2")
    assert "1. " in materials and "原件" in materials
    assert "城乡居民基本医疗保险参保缴费" in materials


def test_progress_menu_click_starts_the_status_form(
    stack: Stack, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    someone = resident(stack)
    assert "办件编号" in answer(someone, wechat_api[0], someone.event_xml("CLICK", "PROGRESS"))


def test_voice_with_recognition_is_answered_as_text(
    stack: Stack, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    someone = resident(stack)
    fields = "<MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format>"
    recognition = "<Recognition><![CDATA[高龄补贴要带哪些材料]]></Recognition>"
    reply = answer(someone, wechat_api[0], someone.xml("voice", fields + recognition, someone.next_id()))
    assert "高龄补贴" in reply and "1. " in reply and "原件" in reply
