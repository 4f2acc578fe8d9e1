"""When an intent's label must give way to the words: the rules behind bot.nlu.intent_guard,
kept free of Rasa so both environments (and plain tests) can use them."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)

SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge"})
ANSWER_INTENT = "inform"
_CONTENT = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
# Words that ask for a form that then asks for an application number or a booking code: a
# question that merely sounds alike (公积金取得出来不, 单位把我辞退了) must not start one.
FORM_WORDS = {
    "check_status": re.compile(
        r"进度|进展|办件|查询|查件|查一下|查一哈|查下|查查|到哪|状态|消息|结果|受理|编号|ZW|审|批|通过|退回|"
        r"寄出|做好|做出来|办好|好了|办完|卡在|卡住|下来|了没|领了不|件",
        re.IGNORECASE,
    ),
    "book_appointment": re.compile(
        r"预约|约|挂号|排号|取号|号|改到|改个|改时间|换个时间|换时间|时间|几点|明天|后天|下周|下个?星期|"
        r"上午|下午|周[一二三四五六日天]|[0-9一二三四五六七八九十]+[号日]"
    ),
    "cancel_appointment": re.compile(
        r"取消|不去了|去不了|退约|退号|退掉|撤销|不约|约|号|不办了|不要了|改到|改个|改时间|换个时间|换时间"
    ),
}
# A complaint said as such stands (the action still asks before filing); a question that only
# sounds annoyed (烦死了，低保审批一般要多长时间) is answered instead.
COMPLAINT_WORDS = re.compile(r"投诉|举报|差评|曝光|纠错|告状|反映.{0,6}(问题|情况)")
ASKS_A_QUESTION = re.compile(
    r"想知道|想问|问一下|问下|请问|能不能|可不可以|可以不|在哪|哪里|哪点|要带|带哪|带啥|多久|多长时间|几天|"
    r"多少钱|好多钱|咋个办|怎么办|怎么弄|咋个弄|哪些|什么材料|要不要|需不需要|咋个补|怎么补|"
    r"几[趟次回天个样]|[吗么呢?？]$"
)


def content_length(text: str) -> int:
    return len(_CONTENT.findall(text))


def service_terms(dictionary_file: Path) -> frozenset[str]:
    """Words that name a service: the index's guide links (names, aliases, synonyms)."""
    if not dictionary_file.exists():
        log.warning("intent guard: %s missing; only message length counts as evidence", dictionary_file)
        return frozenset()
    data = json.loads(dictionary_file.read_text(encoding="utf-8"))
    return frozenset(term for term in data.get("guide_links", {}) if len(term) >= 2)


class IntentEvidence:
    """Chat/yes-no labels stand only for short messages naming no service; a complaint unless
    it is a question with no complaint word; the status and booking forms only when the words
    ask for progress or an appointment. 转人工 always stands: the action asks before acting."""

    def __init__(self, terms: frozenset[str], max_small_talk_chars: int = 12) -> None:
        self.max_chars = max_small_talk_chars
        self.terms = sorted(terms, key=len, reverse=True)

    def overrules(self, intent: str, text: str) -> bool:
        if intent in SMALL_TALK:
            return content_length(text) > self.max_chars or self.names_service(text)
        if intent == "complaint":
            return not COMPLAINT_WORDS.search(text) and bool(ASKS_A_QUESTION.search(text))
        if intent in FORM_WORDS:
            return not FORM_WORDS[intent].search(text)
        return False

    def names_service(self, text: str) -> bool:
        return any(term in text for term in self.terms)
