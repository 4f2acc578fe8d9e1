"""Reading the answer at a confirmation step (booking, cancelling): only the affirm option confirms.

A summary offers 确认 / 修改 / 取消. The buttons carry a structured payload
(``/inform{"confirm_answer": "edit"}``), so a tapped button — or "2" on WeChat, which the channel
maps to that button — is read from the entity, never from the NLU's intent: the bare word 修改 was
once classified affirm (0.84) and booked the appointment. Typed answers are read by their words;
anything that is not clearly one of the three (a bare number, a question) is unclear and the step
is asked again.
"""

from __future__ import annotations

import re
from enum import StrEnum

from rasa_sdk import Tracker

ENTITY = "confirm_answer"


class Answer(StrEnum):
    yes = "yes"
    edit = "edit"
    no = "no"
    unclear = "unclear"


_PUNCTUATION = re.compile(r"[\s，。！？!?,.、~～…]+")
_YES = re.compile(
    r"(嗯+|对|对的|是|是的|好|好的|行|可以|没问题|没错|要得|就这样)?"
    r"(确认|确定|对|对的|是的|好的|可以|没问题|没错|要得|就这样|行)"
    r"(预约|提交|取消|无误)?(吧|嘛|了|啊|呀|哈)?"
)
_EDIT = re.compile(
    r"^(那|还是|我|我要|我想|要|想|帮我|需要)?(修改|改|更改|重填|重新填)|(不对|有误|错了|写错|填错|搞错)(了|的)?$"
)
_NO = re.compile(
    r"^(先)?(取消|算了|不要了|不要|不用了|不用|不约了|不预约了|不办了|放弃|不取消|不要取消|保留|留着)(吧|了|嘛)?$"
)
_CANCEL_IT = re.compile(r"^(取消|取消掉|要取消|取消吧)$")


def buttons(yes: str = "确认", edit: str | None = "修改", no: str = "取消") -> list[dict[str, str]]:
    """确认 / 修改 / 取消 with structured payloads; ``edit=None`` leaves 修改 out."""
    options = [(yes, Answer.yes, "affirm"), (edit, Answer.edit, "inform"), (no, Answer.no, "deny")]
    return [
        {"title": title, "payload": f'/{intent}{{"{ENTITY}": "{answer.value}"}}'}
        for title, answer, intent in options
        if title
    ]


def read(tracker: Tracker, *, cancelling: bool = False) -> Answer:
    """The resident's answer to the summary just shown; ``cancelling`` when the question is
    "cancel this booking?", where a typed 取消 means yes."""
    tapped = next((str(value) for value in tracker.get_latest_entity_values(ENTITY) if value), None)
    if tapped in {answer.value for answer in Answer}:
        return Answer(tapped)
    return read_text(str(tracker.latest_message.get("text") or ""), cancelling=cancelling)


def read_text(text: str, *, cancelling: bool = False) -> Answer:
    said = _PUNCTUATION.sub("", text)
    if said in ("/affirm", "/deny"):
        return Answer.yes if said == "/affirm" else Answer.no  # the bare intents, tapped
    if not said or said.startswith("/"):
        return Answer.unclear  # another button's payload is not an answer to this one
    if cancelling and _CANCEL_IT.match(said):
        return Answer.yes
    if _NO.match(said):
        return Answer.no
    if _YES.fullmatch(said):
        return Answer.yes
    if _EDIT.search(said) and len(said) <= 12:
        return Answer.edit
    return Answer.unclear
