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
        r"进度|进展|办件|查询|查件|查一下|查一哈|查下|查查|到哪|状态|消息|结果|受理|编号|ZW|DB|审|批|通过|退回|"
        r"寄出|做好|做出来|办好|好了|办完|卡在|卡住|下来|了没|领了不|件|怎么样了|咋样了|咋个样了|如何了",
        re.IGNORECASE,
    ),
    "book_appointment": re.compile(
        r"预约|约|挂号|排号|取号|号|改到|改个|改时间|换个时间|换时间|时间|几点|明天|后天|下周|下个?星期|"
        r"上午|下午|周[一二三四五六日天]|[0-9一二三四五六七八九十]+[号日]"
    ),
    "cancel_appointment": re.compile(
        r"取消|不去了|去不了|退约|退号|退掉|撤销|不约|约|号(?!码)|不办了|不要了|改到|改个|改时间|换个时间|换时间"
    ),
    # 免费代办: someone to do the errand (代办、跑腿、上门、帮我办). A reason one cannot go (腿脚残了)
    # alone is not a request: 腿脚残了想办个残疾证 asks about the service.
    "request_agency": re.compile(
        r"代办|代跑|跑腿|上门|委托|派.{0,3}人|帮.{0,6}(办|跑)|替.{0,4}(办|跑)|代.{0,2}(办|跑)"
    ),
}
# Asking whether free 代办 exists or what it costs (有没有人帮忙代办、代办收不收钱), or whether a
# service may be delegated (汇算可以委托单位代办吗), is a question: answered from the city's plan
# (with a button that asks for 代办) or the guide; 帮我代办、我要申请代办 ask for it.
ASKS_ABOUT_AGENCY = re.compile(
    r"有没有|有没得|有莫得|有不有|是不是|收不收|要不要钱|收费|收钱|免费吗|啥子是|什么是|什么叫|啥叫|哪些|委托"
)
REQUESTS_AGENCY = re.compile(r"帮我|给我|替我|帮.{0,2}我(家|屋)|我要|我想|申请|请.{0,4}代办|麻烦")
# A complaint said as such stands (the action still asks before filing); a question that only
# sounds annoyed (烦死了，低保审批一般要多长时间) is answered instead.
COMPLAINT_WORDS = re.compile(r"投诉|举报|差评|曝光|纠错|告状|反映.{0,6}(问题|情况)")
# Asking for a person (or giving up on the machine): 转人工、找个真人、工作人员、打电话给我、机器人听不懂.
ASKS_FOR_A_PERSON = re.compile(
    r"人工|人公|真人|客服|坐席|工作人员|接线|机器|换人|问人|有人|(找|喊|叫|接|要).{0,4}人|打电话给我"
)
# How, where, how long, how much: a question about a service even when it names none.
ASKS_HOW = re.compile(
    r"几趟|几次|几天|多久|好久|网上|手机上|线上|在哪|哪里|哪点|要带|带啥|带哪|好多钱|多少钱|收费|要钱|"
    r"怎么办|咋个办|咋个弄|怎么弄|(?<!不)要不要|能不能|可不可以"
)
RATING_WORDS = re.compile(r"[0-9一二三四五]\s*分|[0-9一二三四五]\s*星|评价|打分|满意|好评|差评")
ASKS_A_QUESTION = re.compile(
    r"想知道|想问|问一下|问下|请问|能不能|可不可以|可以不|在哪|哪里|哪点|要带|带哪|带啥|多久|多长时间|几天|"
    r"多少钱|好多钱|咋个办|怎么办|怎么弄|咋个弄|哪些|什么材料|要不要|需不需要|咋个补|怎么补|"
    r"是不是|能否|可不可以|有没有|几[趟次回天个样]|[吗么呢?？]$"
)


# A tracking number asked about (ZW… 办件, TS… 投诉, DB… 代办) or an application's progress asked
# after: a status query whatever DIET says ("TS202611290035 这个投诉处理得咋样了" read as complaint).
TRACKING_NUMBER = re.compile(r"(?<![A-Za-z])(ZW|TS|DB)\s*\d{12}(?!\d)", re.IGNORECASE)
ASKS_PROGRESS = re.compile(
    r"进度|进展|到哪一?步|怎么样了|咋样了|咋个样了|如何了|处理了没|处理没|有结果没|结果出来|办好没|"
    r"办好了没|好了没|批下来没|审批到"
)
ASKS_AFTER_COMPLAINT = re.compile(
    r"(投诉|举报|反映).{0,6}(处理得?(咋样|怎么样|如何|好了|完了|了没)|进度|进展|结果|有回复|回复了没|怎么样了|咋样了)|"
    r"(查|问)一?下?.{0,4}(投诉|举报).{0,4}(进度|结果|情况)"
)
LOOKS_UP = re.compile(r"查一?下|查一哈|查查|查询|进度")
APPLIED = re.compile(r"申请|办件|办的件|(交|递|报|送)(的|了|过)(材料|资料)")
STATUS_INTENT = "check_status"


def content_length(text: str) -> int:
    return len(_CONTENT.findall(text))


def service_terms(dictionary_file: Path) -> frozenset[str]:
    """Words that name a service (the index's guide links: names, aliases, synonyms) or how
    services work (its policy topics: 代办、容缺、一窗…): 村里有没有人帮忙代办 is no greeting."""
    if not dictionary_file.exists():
        log.warning("intent guard: %s missing; only message length counts as evidence", dictionary_file)
        return frozenset()
    data = json.loads(dictionary_file.read_text(encoding="utf-8"))
    terms = [*data.get("guide_links", {}), *data.get("policy_topics", [])]
    return frozenset(term for term in terms if len(term) >= 2)


class IntentEvidence:
    """Chat/yes-no labels stand only for short messages naming no service; a complaint unless
    it is a question with no complaint word; the status and booking forms only when the words
    ask for progress or an appointment; 转人工 when the words ask for a person, or the message is
    short (the action asks before acting) — a long story about one's situation is a question."""

    def __init__(self, terms: frozenset[str], max_small_talk_chars: int = 12) -> None:
        self.max_chars = max_small_talk_chars
        self.terms = sorted(terms, key=len, reverse=True)

    def overrules(self, intent: str, text: str) -> bool:
        if intent == "feedback":  # 5分、挺好的、评价一下很满意: a long question is not a rating
            return content_length(text) > self.max_chars and not RATING_WORDS.search(text)
        if intent in SMALL_TALK:  # 要跑几趟、网上能办不: a question, however short
            return (
                content_length(text) > self.max_chars
                or self.names_service(text)
                or bool(ASKS_HOW.search(text))
            )
        if intent == "complaint":
            return not COMPLAINT_WORDS.search(text) and bool(ASKS_A_QUESTION.search(text))
        if intent == "request_agency" and ASKS_ABOUT_AGENCY.search(text) and not REQUESTS_AGENCY.search(text):
            return True
        if intent in FORM_WORDS:
            return not FORM_WORDS[intent].search(text)
        if intent == "request_human":  # 合同到期了单位不跟我续签了现在每个月能领点钱不
            return content_length(text) > self.max_chars and not ASKS_FOR_A_PERSON.search(text)
        return False

    def promotes(self, intent: str, text: str) -> str | None:
        """The intent the words demand instead of ``intent``: a status query for a tracking
        number or an application's progress; never instead of 转人工."""
        if intent in (STATUS_INTENT, "request_human"):
            return None
        number = TRACKING_NUMBER.search(text)
        complaint_number = number is not None and number.group(1).upper() == "TS"
        if COMPLAINT_WORDS.search(text) and not complaint_number:
            # 我的投诉处理得咋样了 asks after a complaint; a complaint that mentions its
            # application (投诉 ZW… 没人管) stays a complaint.
            return STATUS_INTENT if number is None and ASKS_AFTER_COMPLAINT.search(text) else None
        if number and (ASKS_PROGRESS.search(text) or LOOKS_UP.search(text) or content_length(text) <= 20):
            return STATUS_INTENT
        if APPLIED.search(text) and ASKS_PROGRESS.search(text):
            return STATUS_INTENT
        return None

    def names_service(self, text: str) -> bool:
        return any(term in text for term in self.terms)
