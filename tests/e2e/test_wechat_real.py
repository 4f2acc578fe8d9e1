"""WeChat conversations answered by the real Rasa and action server (no CannedTurns).

wechatpy builds the signed and AES-encrypted requests (safe mode) and reads the encrypted
replies; answers longer than one passive reply arrive, all their parts, at the fake WeChat API on
loopback as customer-service sends, so a resident's answer is the passive reply or those sends.
"""

from __future__ import annotations

import re
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "channels"))  # wechat_fake

from wechat_fake import FakeWeChatAPI, Resident, assert_within_budget

from channels.wechat import inbound
from core.stack import Stack

pytestmark = pytest.mark.e2e

SEND_WAIT_SECONDS = 15


def resident(stack: Stack) -> Resident:
    return Resident(stack.url, f"oReal{uuid.uuid4().hex[:16]}", "safe")


def answer_parts(stack: Stack, someone: Resident, api: FakeWeChatAPI, xml: str) -> list[str]:
    """What the resident reads, in order: the passive reply, or (an answer in several parts, or one
    past the deadline) the customer-service sends that follow "success". Each part fits the budget."""
    before = len(api.texts_to(someone.openid))
    passive = someone.read(someone.post(xml))
    if passive is not None:
        time.sleep(0.3)
        assert len(api.texts_to(someone.openid)) == before, "a passive reply and sends for one answer"
        parts = [passive]
    else:
        parts = api.settled_texts_to(someone.openid, count=before + 1, timeout=SEND_WAIT_SECONDS)[before:]
    assert_within_budget(parts, stack.settings.wechat)
    return parts


def answer(stack: Stack, someone: Resident, api: FakeWeChatAPI, xml: str) -> str:
    return "\n".join(answer_parts(stack, someone, api, xml))


def ask(stack: Stack, someone: Resident, api: FakeWeChatAPI, text: str) -> str:
    return answer(stack, someone, api, someone.text_xml(text))


def option_number(reply: str, title: str) -> str:
    """The number shown before ``title`` in "回复 N 标题" lines."""
    found = re.search(rf"^回复 (\d+) {re.escape(title)}", reply, re.MULTILINE)
    assert found, f"no option {title!r} in: {reply}"
    return found[1]


def test_subscribe_gets_the_welcome(stack: Stack, wechat_api: tuple[FakeWeChatAPI, str]) -> None:
    someone = resident(stack)
    welcome = answer(stack, someone, wechat_api[0], someone.event_xml("subscribe", ""))
    assert welcome.startswith(inbound.WELCOME)
    assert f"{inbound.SUGGESTIONS_LEAD}\n回复 1 " in welcome  # “猜你想问”, numbered


def test_question_gets_the_guide_with_numbered_options_and_a_number_picks_one(
    stack: Stack, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    api = wechat_api[0]
    someone = resident(stack)
    fee = ask(stack, someone, api, "新农合今年交好多钱")
    assert "城乡居民基本医疗保险参保缴费" in fee and "元" in fee
    sources = [line for line in fee.splitlines() if "来源" in line]
    assert len(sources) == 1, fee
    assert sources[0].startswith("来源：城乡居民基本医疗保险参保缴费") and sources[0].endswith("示例数据")
    assert fee.endswith("回复 1 预约办理\n回复 2 全部材料\n回复 3 我符合条件吗")

    # A number that picks nothing gets the list again; the dialogue never sees it.
    assert (
        ask(stack, someone, api, "7")
        == "请回复列表中的数字 1—3：\n回复 1 预约办理\n回复 2 全部材料\n回复 3 我符合条件吗"
    )

    materials = ask(stack, someone, api, "2")
    assert "1. " in materials and "原件" in materials
    assert "城乡居民基本医疗保险参保缴费" in materials
    assert len([line for line in materials.splitlines() if "来源" in line]) == 1


def test_a_day_with_many_slots_pages_to_the_afternoon(
    stack: Stack, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    """A day's slots are more than 9: the first 8 and "回复 0 更多"; 0 shows the afternoon ones, and
    a number from that page books it."""
    api = wechat_api[0]
    someone = resident(stack)
    halls = ask(stack, someone, api, "我想预约办理低保")
    days = ask(stack, someone, api, option_number(halls, "遵义市政务服务中心"))
    assert "哪天" in days
    # Today may have only its last few slots left (the suite runs at any hour): take a whole day.
    whole_day = "2" if re.search(r"^回复 1 今天", days, re.MULTILINE) else "1"
    slots = ask(stack, someone, api, whole_day)
    assert "时段可约" in slots
    assert "回复 0 更多" in slots, slots
    assert not re.search(r"^回复 9 ", slots, re.MULTILINE)
    more = ask(stack, someone, api, "0")
    afternoon = re.findall(r"^回复 (\d+) (1[3-6]:\d\d)-", more, re.MULTILINE)
    assert afternoon and int(afternoon[0][0]) >= 9, more
    number, start = afternoon[-1]
    booked = ask(stack, someone, api, number)
    assert "姓名" in booked, f"picked {start} with {number}: {booked}"


def test_a_number_answers_the_age_question_and_picks_the_next_option(
    stack: Stack, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    """多大年纪 is answered with a number (the dialogue gets "21"); 男士还是女士 is picked by one."""
    api = wechat_api[0]
    someone = resident(stack)
    guide = ask(stack, someone, api, "结婚登记要带哪些材料")
    age = ask(stack, someone, api, option_number(guide, "我符合条件吗"))
    assert "多大年纪" in age and "也可以直接回复“不清楚”" in age and "回复 1" not in age
    gender = ask(stack, someone, api, "21")
    assert "男士还是女士" in gender and "回复 1 男" in gender and "回复 2 女" in gender
    verdict = ask(stack, someone, api, "1")
    assert "暂时不符合「结婚登记」" in verdict and "“男方年满22周岁”" in verdict
    assert [line for line in verdict.splitlines() if "来源" in line] == [
        line
        for line in verdict.splitlines()
        if line.startswith("来源：结婚登记 · ") and line.endswith("示例数据")
    ]


def test_progress_menu_click_starts_the_status_form(
    stack: Stack, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    someone = resident(stack)
    assert "办件编号" in answer(stack, someone, wechat_api[0], someone.event_xml("CLICK", "PROGRESS"))


def test_voice_with_recognition_is_answered_as_text(
    stack: Stack, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    someone = resident(stack)
    fields = "<MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format>"
    recognition = "<Recognition><![CDATA[高龄补贴要带哪些材料]]></Recognition>"
    reply = answer(
        stack, someone, wechat_api[0], someone.xml("voice", fields + recognition, someone.next_id())
    )
    assert "高龄补贴" in reply and "1. " in reply and "原件" in reply
