"""Residents as they really talk, through the gateway and the real Rasa and action servers:
situations without the service's name, voice run-ons, typos, traditional characters, dialect,
follow-ups that change subject, facts before questionnaires, and off-topic questions that share
words with services. Each reply is judged as a resident would: which guide it cites."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def _sender() -> str:
    return f"web:{uuid.uuid4().hex}"


def _text(reply: dict) -> str:
    return "\n".join(m.get("text") or "" for m in reply["messages"])


def _cited(reply: dict) -> set[str]:
    """Guides and plan items the reply cites as its source."""
    return {
        source["title"]
        for message in reply["messages"]
        for source in (message.get("sources") or (message.get("payload") or {}).get("sources") or [])
    }


def _about(reply: dict, guide: str) -> bool:
    """The reply answers from ``guide``, or starts checking the resident against it."""
    return guide in _cited(reply) or f"「{guide}」" in _text(reply)


def _buttons(reply: dict) -> list[str]:
    return [b["title"] for m in reply["messages"] for b in m.get("buttons") or []]


def _no_ticket(reply: dict) -> None:
    text = _text(reply)
    assert "受理编号" not in text and "工单号" not in text


@pytest.mark.parametrize(
    ("question", "guide"),
    [
        ("我奶奶今年85了有没有高龄补贴", "高龄补贴申领"),
        ("身份證過期了要去哪裡換新的", "居民身份证换领补领"),
        ("喂 你好 我想问下那个低保要带些啥子材料嘛", "最低生活保障申请"),
        ("嗯 就是说我在单位干了三年 上个月合同到期了单位不跟我续签了 现在每个月能领点钱不", "失业保险金申领"),
    ],
)
def test_situations_voice_and_traditional_get_the_right_guide(
    stack: Stack, question: str, guide: str
) -> None:
    reply = stack.chat(_sender(), question)
    assert _about(reply, guide), _text(reply)
    assert "没有把握" not in _text(reply) and not _text(reply).startswith("您好")
    _no_ticket(reply)


@pytest.mark.parametrize(
    ("question", "guide", "corrected"),
    [
        ("身分正过期了在哪点换得到", "居民身份证换领补领", "身份证"),
        ("护招在哪点办", "普通护照签发", "护照"),
        ("事业金咋个申请", "失业保险金申领", "失业金"),
        ("我屋头要装修房子 公基金取得出来不", "住房公积金提取", "公积金"),
    ],
)
def test_pinyin_typos_are_understood(stack: Stack, question: str, guide: str, corrected: str) -> None:
    reply = stack.chat(_sender(), question)
    assert guide in _cited(reply), _text(reply)
    assert "请问申请人" not in _text(reply)  # no questionnaire for a question


def test_a_lost_card_described_without_its_name_is_not_answered_from_the_plan(stack: Stack) -> None:
    reply = stack.chat(_sender(), "钱包遭偷了，坐高铁住酒店都要用的那张证件也没得了")
    assert not any("39号" in title for title in _cited(reply)), _text(reply)
    # Several cards have a 丢失补领 situation: the ID card is answered, or offered first.
    offered = _buttons(reply)
    assert "居民身份证换领补领" in _cited(reply) or offered[:1] == ["居民身份证换领补领"], _text(reply)
    _no_ticket(reply)


def test_a_new_situation_is_not_answered_from_the_remembered_service(stack: Stack) -> None:
    sender = _sender()
    assert "最低生活保障申请" in _cited(stack.chat(sender, "低保要带哪些材料"))
    reply = stack.chat(sender, "我家老人今年82岁，有没有补贴可以领")
    # About their own elder: 高龄补贴's answer, or its eligibility check, not 低保 or the plan.
    assert _about(reply, "高龄补贴申领"), _text(reply)
    assert "最低生活保障申请" not in _cited(reply)
    assert not any("39号" in title for title in _cited(reply))
    follow_up = stack.chat(sender, "那在哪点办嘛")
    assert "高龄补贴申领" in _cited(follow_up), _text(follow_up)


def test_how_services_work_still_quotes_the_plan(stack: Stack) -> None:
    reply = stack.chat(_sender(), "村里有没有人帮忙代办")
    assert any("39号" in title for title in _cited(reply)), _text(reply)


def test_a_factual_question_is_answered_before_any_questionnaire(stack: Stack) -> None:
    reply = stack.chat(_sender(), "男的多少岁才能领结婚证")
    text = _text(reply)
    assert "22" in text and "结婚登记" in _cited(reply)
    assert "请问申请人" not in text
    assert "帮我判断" in _buttons(reply)

    sender = _sender()
    asked = _text(stack.chat(sender, "我能不能办低保"))
    assert "只问几个必要的问题" in asked


@pytest.mark.parametrize(
    "question",
    [
        "房贷等额本息一个月要还好多钱咋个算",
        "开小吃店卖什么最赚钱",
        "砍树用的油锯哪个牌子好用",
    ],
)
def test_off_topic_questions_sharing_service_words_are_refused(stack: Stack, question: str) -> None:
    reply = stack.chat(_sender(), question)
    assert not _cited(reply), _text(reply)
    assert "12345" in _text(reply)
    _no_ticket(reply)


def test_a_situation_question_names_the_situation_and_offers_the_next_steps(stack: Stack) -> None:
    reply = stack.chat(_sender(), "单位把我辞退了，我该去办啥子")
    text = _text(reply)
    assert "失业保险金申领" in _cited(reply), text
    assert "情形" in text
