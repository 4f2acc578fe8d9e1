"""At a summary only the affirm option confirms: 修改, 不对, a bare number or a question never do."""

from __future__ import annotations

import pytest

from bot.actions.confirmation import Answer, buttons, read_text


@pytest.mark.parametrize(
    "said", ["确认", "确定", "好的", "对的", "可以", "没问题", "嗯确认", "确认预约", "对，确认吧"]
)
def test_the_affirm_words_confirm(said: str) -> None:
    assert read_text(said) is Answer.yes


@pytest.mark.parametrize("said", ["修改", "改一下", "不对", "我要改", "时间错了", "信息有误", "改下时间"])
def test_change_words_ask_what_to_change(said: str) -> None:
    assert read_text(said) is Answer.edit


@pytest.mark.parametrize("said", ["取消", "算了", "不约了", "不要了"])
def test_stop_words_book_nothing(said: str) -> None:
    assert read_text(said) is Answer.no


@pytest.mark.parametrize(
    "said", ["2", "1", "3", "0", "好多钱", "要带啥材料", "/ask_fee", "对不对哦要带身份证不"]
)
def test_numbers_questions_and_foreign_payloads_are_unclear(said: str) -> None:
    assert read_text(said) is Answer.unclear


def test_when_cancelling_a_booking_a_typed_cancel_means_yes() -> None:
    assert read_text("取消", cancelling=True) is Answer.yes
    assert read_text("不取消", cancelling=True) is Answer.no
    assert read_text("2", cancelling=True) is Answer.unclear


def test_every_button_carries_its_answer_as_an_entity_not_a_bare_word() -> None:
    payloads = {button["title"]: button["payload"] for button in buttons()}
    assert payloads == {
        "确认": '/affirm{"confirm_answer": "yes"}',
        "修改": '/inform{"confirm_answer": "edit"}',
        "取消": '/deny{"confirm_answer": "no"}',
    }
    assert [b["title"] for b in buttons(yes="确认取消", edit=None, no="不取消")] == ["确认取消", "不取消"]
