"""The complaint form: what happened, where, a phone number if the resident wants one, then a
summary that files the complaint only on 提交.

action_start_complaint starts the form on a confident, explicit request (投诉、举报…) and asks
first otherwise (consent.py). All form slots are custom-mapped: validate_complaint_form takes
typed text only for the slot it asked, and the summary's buttons carry entities, so a bare "2"
or 修改 can never file. 算了/取消 at any step ends the form without filing.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import consent
from bot.actions.answered_turn import ANSWERS, answered_turn
from bot.actions.backend import channel_of, get_services
from bot.actions.base import Action, FormValidationAction
from bot.nlu.intent_evidence import ASKS_A_QUESTION
from services.errors import DomainError
from services.feedback import KIND_LABELS, ComplaintRequest
from services.identity import mask_phone, mask_text, validate_phone
from services.models import ComplaintKind

FORM = "complaint_form"
CONTENT = "complaint_content"
PLACE = "complaint_place"
CONTACT = "complaint_contact"
CONFIRM = "complaint_confirm"
EDITING = "complaint_editing"
KIND = "complaint_kind"
REQUESTED_SLOT = "requested_slot"
FORM_SLOTS = (CONTENT, PLACE, CONTACT, CONFIRM, EDITING, KIND)
# Stored for an optional answer the resident skipped: a required slot must hold something.
SKIPPED = "跳过"
SUBMIT, EDIT, CANCEL, UNCLEAR = "submit", "edit", "cancel", "unclear"
# complaint_edit entity (the 修改 buttons) → the slot it clears.
EDIT_TARGETS = {"content": CONTENT, "place": PLACE, "contact": CONTACT}
MIN_DESCRIPTION_CHARS = 4
MAX_PLACE_CHARS = 100

QUESTION = "您是要投诉/反映问题吗？"
CONSENT_BUTTONS = [
    {"title": "是，我要投诉", "payload": '/complaint{"complaint_consent": "yes"}'},
    {"title": "不是，我是问办事", "payload": '/complaint{"complaint_consent": "no"}'},
]
SKIP_BUTTON = [{"title": "跳过", "payload": SKIPPED}]
SUMMARY_BUTTONS = [
    {"title": "提交", "payload": '/affirm{"complaint_confirm": "submit"}'},
    {"title": "修改", "payload": '/inform{"complaint_confirm": "edit"}'},
    {"title": "取消", "payload": '/deny{"complaint_confirm": "cancel"}'},
]
EDIT_BUTTONS = [
    {"title": "问题经过", "payload": '/inform{"complaint_edit": "content"}'},
    {"title": "地点", "payload": '/inform{"complaint_edit": "place"}'},
    {"title": "联系电话", "payload": '/inform{"complaint_edit": "contact"}'},
]

# 投诉 said as a request; 不满意 alone is a feeling, so it is asked about first.
EXPLICIT = re.compile(r"投诉|投訴|举报|舉報|曝光|纠错|告状|差评|反映.{0,6}(问题|情况)")
_REQUEST = re.compile(
    r"(我|俺|我们)?(就|是|还)?(要|想|想要|需要|准备|得|来)?(给你们|向你们|跟你们)?"
    r"(投诉|投訴|举报|舉報|曝光|纠错|告状|差评|反映(一下|下)?(问题|情况)?)(一下|下)?"
)
_FILLER = re.compile(
    r"你们|你好|您好|请问|一下|咋个|怎么|怎样|如何|哪里|哪点|在哪|[喂投弄办呢吗嘛啊哦了吧的个]"
)
_CONTENT_CHAR = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
_PUNCTUATION = re.compile(r"[\s，。,.！!？?~～、：:；;…'\"“”]+")
_TRAILING = re.compile(r"[吧嘛哈啊呀哦]+$")
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")

STOP_WORDS = frozenset(
    {"算了", "取消", "取消投诉", "退出", "不投诉了", "不想投诉了", "不要投诉了", "不用投诉了", "不投了"}
    | {"不提交", "不提交了", "不弄了", "不要了", "算了不投诉了", "还是算了", "那算了", "不登记了"}
)
# Asked for something optional, 不用了 means "skip this", not "forget the complaint".
SKIP_WORDS = frozenset(
    {"跳过", "略过", "不填", "不用填", "不留", "不留了", "不用留", "不想留", "不用", "不用了", "不需要"}
    | {"没有", "没得", "莫得", "无", "不方便", "不知道", "不晓得", "不清楚", "不想说"}
)
_SUBMIT = re.compile(
    r"(对的|对|好的|好|是的|嗯|没问题|可以|没错)?就?(确认|确定)?(提交|确认|确定)(吧|嘛|了|啊|呀)?"
)
_EDIT = re.compile(r"(我)?(要|想|需要)?(修改|改|更改|重填|重新填|不对|有误|写错了|填错了)")
_EDIT_WORDS = {
    CONTENT: re.compile(r"经过|内容|情况|问题|描述|事情"),
    PLACE: re.compile(r"地点|地方|窗口|大厅|部门|哪里|位置"),
    CONTACT: re.compile(r"电话|手机|号码|联系"),
}
# Only a clear request for a person leaves the form; 窗口工作人员态度差 is a description.
_HANDOFF = re.compile(r"转人工|人工|真人|客服|坐席|接线员")


def normalised(text: str) -> str:
    return _TRAILING.sub("", _PUNCTUATION.sub("", text))


def describes_something(text: str) -> bool:
    """More than a bare request (我要投诉、我想投诉一下、要投诉咋个投): something happened."""
    rest = _FILLER.sub("", _REQUEST.sub("", text))
    return len(_CONTENT_CHAR.findall(rest)) >= MIN_DESCRIPTION_CHARS


def is_stop(text: str, slot: str | None) -> bool:
    said = normalised(text)
    return said in STOP_WORDS or (slot in (CONTENT, CONFIRM) and said in ("不用了", "不用"))


def is_skip(text: str) -> bool:
    return normalised(text) in SKIP_WORDS


def kind_of(text: str) -> ComplaintKind:
    return ComplaintKind.correction if re.search(r"纠错|曝光", text) else ComplaintKind.complaint


def stored_kind(tracker: Tracker) -> ComplaintKind:
    kind = tracker.get_slot(KIND)
    return ComplaintKind(kind) if kind in {k.value for k in ComplaintKind} else ComplaintKind.complaint


def read_confirm(text: str, editing: bool) -> str:
    """The summary's answer typed out: submit only on 提交/确认提交/对的提交 and the like;
    a part's name (地点、电话) is enough once 修改 asked which part."""
    said = normalised(text)
    if _SUBMIT.fullmatch(said):
        return SUBMIT
    if not (editing or _EDIT.match(said)):
        return UNCLEAR
    target = next((slot for slot, words in _EDIT_WORDS.items() if words.search(said)), None)
    if target:
        return f"{EDIT}:{target}"
    return UNCLEAR if editing else EDIT


def typed_answer(tracker: Tracker, slot: str) -> str | None:
    """The message as the answer to ``slot``: only when ``slot`` was asked, the message is typed
    (not a button payload), and it is neither 算了 nor a request for a person."""
    text = consent.latest_text(tracker)
    if tracker.get_slot(REQUESTED_SLOT) != slot or not text or consent.is_payload(text):
        return None
    if is_stop(text, slot) or wants_person(tracker):
        return None
    return text


def wants_person(tracker: Tracker) -> bool:
    return consent.latest_intent(tracker) == "request_human" and bool(
        _HANDOFF.search(consent.latest_text(tracker))
    )


def filed_content(tracker: Tracker) -> str:
    place = tracker.get_slot(PLACE)
    content = str(tracker.get_slot(CONTENT) or "")
    return f"{content}\n发生地点：{place}" if place and place != SKIPPED else content


def given(value: Any) -> str | None:
    return str(value) if value and value != SKIPPED else None


def max_content_chars() -> int:
    """Room for the place line within the backend's limit."""
    return get_services().settings.max_complaint_chars - MAX_PLACE_CHARS - 10


class ActionStartComplaint(Action):
    """A confident, explicit request starts the form; anything else is asked about first."""

    def name(self) -> str:
        return "action_start_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = consent.latest_text(tracker)
        answer = consent.latest_entity(tracker, "complaint_consent") or consent.typed_answer(tracker)
        if answer == "no":
            return consent.answer_instead(dispatcher, tracker)
        if answer == "yes":
            return self._start(dispatcher, consent.asked_about(tracker) or {})
        # A question asked alongside (…要投诉都找不到人，我就想知道驾照到期能不能在手机上换): the
        # resident may want the answer rather than a complaint, so ask first.
        explicit = EXPLICIT.search(text) and not ASKS_A_QUESTION.search(text) and consent.confident(tracker)
        if consent.is_payload(text) or explicit:
            return self._start(dispatcher, tracker.latest_message)
        dispatcher.utter_message(text=QUESTION, buttons=CONSENT_BUTTONS)
        return consent.asked(text)

    @staticmethod
    def _start(dispatcher: CollectingDispatcher, message: dict[str, Any]) -> list[EventType]:
        """The first message fills what it already says: what happened, and the hall it names."""
        text = str(message.get("text") or "")
        content = text if not consent.is_payload(text) and describes_something(text) else None
        entities = message.get("entities") or []
        hall = next((e.get("value") for e in entities if e.get("entity") == "hall"), None)
        kind = kind_of(text)
        noted = "，已记下您说的情况" if content else ""
        dispatcher.utter_message(
            text=f"好的，我来帮您登记{KIND_LABELS[kind]}{noted}。提交前会请您确认，说“算了”可以随时取消。"
        )
        return [
            *consent.settled(consent.GIVEN),
            SlotSet(KIND, kind.value),
            SlotSet(CONTENT, content),
            SlotSet(PLACE, str(hall) if hall else None),
            SlotSet(CONTACT, None),
            SlotSet(CONFIRM, None),
            SlotSet(EDITING, None),
        ]


class ValidateComplaintForm(FormValidationAction):
    """Every validator lets None through quietly: at activation Rasa re-validates the slots
    action_start_complaint just cleared, None included."""

    def name(self) -> str:
        return "validate_complaint_form"

    # Extraction
    async def extract_complaint_content(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = typed_answer(tracker, CONTENT)
        return {CONTENT: text} if text else {}

    async def extract_complaint_place(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._optional(tracker, PLACE)

    async def extract_complaint_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._optional(tracker, CONTACT)

    @staticmethod
    def _optional(tracker: Tracker, slot: str) -> dict[str, Any]:
        text = consent.latest_text(tracker)
        if tracker.get_slot(REQUESTED_SLOT) == slot and is_skip(text):
            return {slot: SKIPPED}
        answer = typed_answer(tracker, slot)
        return {slot: answer} if answer else {}

    async def extract_complaint_confirm(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = consent.latest_text(tracker)
        requested = tracker.get_slot(REQUESTED_SLOT)
        tapped = consent.latest_entity(tracker, "complaint_confirm")
        if tapped == CANCEL or (requested and not consent.is_payload(text) and is_stop(text, requested)):
            return {CONFIRM: CANCEL}
        if requested != CONFIRM or wants_person(tracker):
            return {}
        if tapped in (SUBMIT, EDIT):
            return {CONFIRM: tapped}
        target = EDIT_TARGETS.get(consent.latest_entity(tracker, "complaint_edit") or "")
        if target:
            return {CONFIRM: f"{EDIT}:{target}"}
        if consent.is_payload(text):
            return {} if consent.latest_intent(tracker) == "request_human" else {CONFIRM: UNCLEAR}
        return {CONFIRM: read_confirm(text, bool(tracker.get_slot(EDITING)))}

    # Validation
    def validate_complaint_content(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {CONTENT: None}
        text = str(value).strip()
        if not describes_something(text):
            dispatcher.utter_message(
                text="请再具体说说遇到了什么问题，比如在哪个窗口、办什么事、发生了什么。"
            )
            return {CONTENT: None}
        limit = max_content_chars()
        if len(text) > limit:
            dispatcher.utter_message(text=f"内容有点长，请简要说明经过（{limit}字以内）。")
            return {CONTENT: None}
        return {CONTENT: text}

    def validate_complaint_place(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {PLACE: None}
        place = str(value).strip()
        if len(place) > MAX_PLACE_CHARS:
            dispatcher.utter_message(
                text=f"地点请简要说明（{MAX_PLACE_CHARS}字以内），比如“汇川区政务服务中心社保窗口”。"
            )
            return {PLACE: None}
        return {PLACE: place}

    def validate_complaint_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {CONTACT: None}
        said = str(value)
        if said == SKIPPED:
            return {CONTACT: SKIPPED}
        found = _PHONE.search(re.sub(r"[\s\-]", "", said))
        try:
            return {CONTACT: validate_phone(found.group() if found else said)}
        except DomainError as error:
            dispatcher.utter_message(text=f"{error.message}请重新输入手机号，不想留可以选“跳过”。")
            return {CONTACT: None}

    def validate_complaint_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {CONFIRM: None}
        if value == SUBMIT:
            return {CONFIRM: SUBMIT}
        if value == CANCEL:
            # Ends the form whatever is still unanswered; action_submit_complaint files nothing.
            return {CONFIRM: CANCEL, REQUESTED_SLOT: None}
        if value == EDIT:
            return {CONFIRM: None, EDITING: True}
        target = str(value).removeprefix(f"{EDIT}:")
        if target in EDIT_TARGETS.values():
            return {target: None, CONFIRM: None, EDITING: None}
        if tracker.get_slot(EDITING):
            dispatcher.utter_message(text="请选择要修改的一项。")
        else:
            dispatcher.utter_message(text="还没有提交。")
        return {CONFIRM: None}


class _Ask(Action, ABC):
    """``action_ask_complaint_form_<slot>``: actions, not responses, because responses used only
    by a form make `rasa data validate` warn."""

    @property
    @abstractmethod
    def slot(self) -> str: ...

    @property
    @abstractmethod
    def question(self) -> str: ...

    buttons: ClassVar[list[dict[str, str]]] = []

    def name(self) -> str:
        return f"action_ask_{FORM}_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=self.question, buttons=self.buttons or None)
        return []


class ActionAskComplaintContent(_Ask):
    slot = CONTENT
    question = "请说说遇到了什么问题（在哪个窗口/事项、什么时候、什么情况）。"


class ActionAskComplaintPlace(_Ask):
    slot = PLACE
    question = (
        "这件事发生在哪里？请说大厅、部门或办理的事项，比如“汇川区政务服务中心社保窗口”。不清楚可以选“跳过”。"
    )
    buttons = SKIP_BUTTON


class ActionAskComplaintContact(_Ask):
    slot = CONTACT
    question = "方便留个手机号吗？处理结果会电话告诉您，号码只用于回访。不想留可以选“跳过”。"
    buttons = SKIP_BUTTON


class ActionAskComplaintConfirm(Action):
    """The summary (phone masked) with 提交 / 修改 / 取消; after 修改, which part to change."""

    def name(self) -> str:
        return f"action_ask_{FORM}_{CONFIRM}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot(EDITING):
            dispatcher.utter_message(text="要修改哪一项？", buttons=EDIT_BUTTONS)
            return []
        place = given(tracker.get_slot(PLACE))
        phone = given(tracker.get_slot(CONTACT))
        dispatcher.utter_message(
            text=f"请核对您要提交的{KIND_LABELS[stored_kind(tracker)]}：\n"
            f"问题经过：{mask_text(str(tracker.get_slot(CONTENT) or ''))}\n"
            f"地点：{place or '未填写'}\n"
            f"联系电话：{mask_phone(phone) if phone else '未留'}\n"
            "确认无误请选“提交”；要改选“修改”，不投诉了选“取消”。",
            buttons=SUMMARY_BUTTONS,
        )
        return []


class ActionSubmitComplaint(Action):
    """After the form: file on 提交, otherwise say nothing was filed; either way forget the answers."""

    def name(self) -> str:
        return "action_submit_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        forget: list[EventType] = [SlotSet(slot, None) for slot in FORM_SLOTS]
        label = KIND_LABELS[stored_kind(tracker)]
        if tracker.get_slot(CONFIRM) != SUBMIT:
            dispatcher.utter_message(text=f"好的，{label}没有提交。需要时说“我要投诉”，随时可以重新登记。")
            return forget
        try:
            complaint = get_services().open_complaint(
                ComplaintRequest(
                    sender_id=tracker.sender_id,
                    kind=stored_kind(tracker),
                    content=filed_content(tracker),
                    contact_phone=given(tracker.get_slot(CONTACT)),
                    channel=channel_of(tracker),
                    turn_id=answered_turn(tracker, ANSWERS),
                )
            )
        except DomainError as error:
            dispatcher.utter_message(text=f"{error.message}{label}没有提交，请稍后再试或拨打 12345。")
            return forget
        dispatcher.utter_message(
            text=f"已登记您的{complaint.kind_label}，受理编号 {complaint.tracking_number}。"
            "我们会转交相关部门处理，可凭编号查询进度；急事请拨打 12345。",
            json_message={"type": "complaint", "tracking_number": complaint.tracking_number},
        )
        return forget
