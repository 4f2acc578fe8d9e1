"""The free 代办 request (seed item 20): a village or community agent does a service or a 一件事
for the resident.

What to do comes from the conversation (the 一件事 being talked about, else the service) or is
asked; then name, phone, 县区 and 乡镇/街道, and a summary with 确认 / 修改 / 取消. The request
is opened only on 确认, inside the summary's validation (as booking does), so a refusal sends
the form back to exactly the answer the backend refused and keeps everything else. The name and
phone are held server-side; their slots keep a mask and a reference (personal_slots).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import confirmation, personal_slots
from bot.actions.appointment import common
from bot.actions.appointment.prompts import FormPrompt
from bot.actions.backend import channel_of, get_services
from bot.actions.base import Action
from core.settings import get_settings
from indexer.api import get_guide, list_bundles, list_guides, search
from indexer.bundle_schema import Bundle
from indexer.search import QueryError, SearchFilters, SearchHit
from services.agency import AgencyRequestForm
from services.errors import DomainError
from services.identity import validate_name, validate_phone
from services.text import clean_text

FORM = "agency_form"
SUBJECT = "agency_subject"
NAME = "agency_name"
PHONE = "agency_phone"
DISTRICT = "agency_district"
TOWN = "agency_town"
CONFIRMED = "agency_confirmed"
EDITING = "agency_editing"
NUMBER = "agency_number"
FORM_SLOTS = (SUBJECT, NAME, PHONE, DISTRICT, TOWN, CONFIRMED, EDITING, NUMBER)
# Set by the answering action when the conversation is about a 一件事 (its id); read only here.
BUNDLE_SLOT = "bundle"
MAX_TOWN_CHARS = 50

# Questions, 算了 and requests for a person or a complaint are not answers: the form rejects the
# turn and a rule in bot/rules/agency.yml answers it, stops the form or leaves it.
INTERRUPTIONS = common.INTERRUPTIONS | {"complaint"}

# 修改 first shows these; each clears what it names and the form asks for it again. A different
# 县区 makes the 乡镇 said for the old one meaningless.
EDITS = {
    "修改事项": (SUBJECT,),
    "修改姓名": (NAME,),
    "修改手机号": (PHONE,),
    "修改县区": (DISTRICT, TOWN),
    "修改乡镇": (TOWN,),
}
# The backend's field → the slot asked again when it refuses that field.
FIELD_SLOTS = {
    "name": NAME,
    "phone": PHONE,
    "district": DISTRICT,
    "town": TOWN,
    "service_id": SUBJECT,
    "bundle_id": SUBJECT,
}

# Replies that answer "what is your name?" without a name.
_NAME_LEAD = re.compile(r"^(我叫|我是|名字叫|名字是|姓名[:：]?|叫)")
_PUNCTUATION = re.compile(r"[\s，。！？!?,.、~～…：:；;\"“”']+")
_TOWN_LEAD = re.compile(r"^(我在|我们在|在|是|住在|我住在|地址是?)")
_TOWN_TAIL = re.compile(r"(的|哦|哈|嘛|呀|啊)+$")


@dataclass(frozen=True)
class Subject:
    """What the agent is to do: one guide or one 一件事, by its canonical name."""

    name: str
    service_id: str | None = None
    bundle_id: str | None = None


def bundles() -> list[Bundle]:
    """The 一件事 the index serves (a bundle published live is offered at once)."""
    return list_bundles()


def _of_bundle(bundle: Bundle) -> Subject:
    return Subject(bundle.name, bundle_id=bundle.id)


def bundle_in(text: str, known: list[Bundle]) -> Bundle | None:
    """The 一件事 whose name or alias the words contain (the longest match wins)."""
    found = [
        (len(word), bundle)
        for bundle in known
        for word in (bundle.name, *bundle.aliases)
        if len(word) >= 2 and word in text
    ]
    return max(found, key=lambda pair: pair[0])[1] if found else None


def subject_named(said: str) -> Subject | None:
    """A service (canonical name, alias or a phrase retrieval links to one) or a 一件事 (name
    or alias). Exact names first, and a service's alias before a 一件事's when both list the
    same word: the service is the narrower errand. Retrieval is asked only when nothing matches."""
    text = _PUNCTUATION.sub("", said or "")
    if not text:
        return None
    known = bundles()
    bundle = next((b for b in known if text in (b.id, b.name)), None)
    guide = None if bundle else get_guide(text) or next((g for g in list_guides() if text in g.aliases), None)
    bundle = bundle or next((b for b in known if text in b.aliases), None)
    if guide is None and bundle is None and "一件事" not in text:
        guide = common.guide_for(text)
    if guide is not None:
        return Subject(guide.name, service_id=guide.id)
    bundle = bundle or bundle_in(text, known)
    return _of_bundle(bundle) if bundle else None


def subject_from_conversation(tracker: Tracker) -> Subject | None:
    """What the opening message names (a service, or a 一件事 by name or alias), else what the
    conversation was last answered about: a service answered after the 一件事 (one of its steps)
    is the later, narrower errand; answering a 一件事 forgets the service before it."""
    named = common.entity(tracker, "service")
    if named and (subject := subject_named(named)):
        return subject
    text = str(tracker.latest_message.get("text") or "")
    known = bundles()
    if not text.startswith("/") and (bundle := bundle_in(text, known)):
        return _of_bundle(bundle)
    answered = tracker.get_slot("last_guide")
    if answered and (subject := subject_named(str(answered))):
        return subject
    bundle_id = tracker.get_slot(BUNDLE_SLOT)
    bundle = next((b for b in known if b.id == bundle_id), None)
    if bundle is not None:
        return _of_bundle(bundle)
    service = tracker.get_slot("service")
    return subject_named(str(service)) if service else None


def _edit_button(label: str) -> dict[str, str]:
    return {"title": label.removeprefix("修改"), "payload": f'/inform{{"{confirmation.ENTITY}": "{label}"}}'}


def district_buttons(names: list[str]) -> list[dict[str, str]]:
    return [{"title": name, "payload": f'/inform{{"district": "{name}"}}'} for name in names]


def clear(tracker: Tracker) -> list[EventType]:
    """The request is over (opened or dropped): its slots emptied, its held numbers forgotten."""
    personal_slots.forget(tracker)
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


_DOCUMENT_NUMBER = re.compile(r"[\u3400-\u9fff]+〔\d{4}〕\d+号")
AGENCY_POLICY_QUERY = "村居代办员 上门办理 免费代办"


def plan_item_on_agency() -> SearchHit | None:
    """The city plan's item promising free 代办 (遵府办发〔2017〕39号 第20条), quoted as the basis;
    found by retrieval, so a maintainer's own policy file is cited instead when it replaces it."""
    try:
        result = search(AGENCY_POLICY_QUERY, k=1, filters=SearchFilters(kinds=frozenset({"policy"})))
    except QueryError:
        return None
    return result.hits[0] if result.confident and result.hits else None


def _document_number(title: str) -> str:
    found = _DOCUMENT_NUMBER.search(title)
    return found.group(0) if found else title


class ActionStartAgency(Action):
    """Empties an earlier request's answers, fills in what the conversation already says, and
    says what happens; the rules then start agency_form."""

    def name(self) -> str:
        return "action_start_agency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        subject = subject_from_conversation(tracker)
        what = f"「{subject.name}」" if subject else ""
        basis = plan_item_on_agency()
        cited = f"（依据{_document_number(basis.title)}{basis.section.split(' ')[0]}）" if basis else ""
        dispatcher.utter_message(
            text=f"好的，村（社区）代办员可以免费帮您代办{what}{cited}。先登记几项信息，提交前会请您确认；"
            "说“算了”随时可以取消。",
            json_message={
                "type": "agency_intro",
                "sources": [{"title": basis.title, "section": basis.section}] if basis else [],
            },
        )
        events = clear(tracker)
        if subject:
            events.append(SlotSet(SUBJECT, subject.name))
        return events


class ValidateAgencyForm(common.OrderedFormValidation):
    """Every validator lets None through quietly: at activation the SDK validates the slots
    action_start_agency just emptied."""

    def name(self) -> str:
        return "validate_agency_form"

    # Extraction: entities whenever they come, typed text only for the slot that was asked.
    async def extract_agency_subject(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != SUBJECT:
            return {}
        value = common.entity(tracker, "service") or common.answer_text(tracker, SUBJECT, INTERRUPTIONS)
        return {SUBJECT: value} if value else {}

    async def extract_agency_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != NAME:
            return {}  # a 姓名 guessed in another answer (湄潭县 read as a name) is not taken
        return common.extracted_name(tracker, NAME, INTERRUPTIONS)

    async def extract_agency_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return common.extracted(tracker, PHONE, "phone", interruptions=INTERRUPTIONS)

    async def extract_agency_district(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return common.extracted(tracker, DISTRICT, "district", interruptions=INTERRUPTIONS)

    async def extract_agency_town(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = common.answer_text(tracker, TOWN, INTERRUPTIONS)
        return {TOWN: text} if text else {}

    async def extract_agency_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != CONFIRMED:
            return {}
        text = str(tracker.latest_message.get("text") or "").strip()
        tapped = common.entity(tracker, confirmation.ENTITY)
        if tapped in EDITS:
            return {CONFIRMED: tapped}
        if text in EDITS:
            return {CONFIRMED: text}
        named = next((label for label in EDITS if label.removeprefix("修改").rstrip("号") in text), None)
        if tracker.get_slot(EDITING) and named:
            return {CONFIRMED: named}  # 手机 / 县区, once 修改哪一项 was asked
        answer = confirmation.read(tracker)
        if answer is confirmation.Answer.unclear and common.intent_of(tracker) in INTERRUPTIONS:
            return {}  # a question at the summary: a rule answers it and the summary is asked again
        return {CONFIRMED: answer.value}

    # Validation
    def validate_agency_subject(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {SUBJECT: None}
        subject = subject_named(str(value))
        if subject is None:
            if tracker.get_slot("requested_slot") == SUBJECT:
                dispatcher.utter_message(
                    text=f"没有找到“{str(value)[:20]}”这个事项。请说要办的事，例如“残疾人证”“高龄补贴”，"
                    "或者一件事，例如“新生儿出生一件事”。"
                )
            return {SUBJECT: None}
        if tracker.get_slot("requested_slot") == SUBJECT:
            dispatcher.utter_message(text=f"好的，代办「{subject.name}」。")  # what the words were read as
        return {SUBJECT: subject.name, CONFIRMED: None}

    def validate_agency_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None or personal_slots.is_held(value):
            return {NAME: value}
        said = _NAME_LEAD.sub("", _PUNCTUATION.sub("", str(value)))
        try:
            name = validate_name(said)
        except DomainError as error:
            dispatcher.utter_message(text=error.message)
            return {NAME: None}
        return {NAME: personal_slots.hold(tracker, "name", name)}

    def validate_agency_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None or personal_slots.is_held(value):
            return {PHONE: value}
        try:
            phone = validate_phone(str(value))
        except DomainError as error:
            dispatcher.utter_message(text=f"{error.message}请重新输入手机号。")
            return {PHONE: None}
        return {PHONE: personal_slots.hold(tracker, "phone", phone)}

    def validate_agency_district(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {DISTRICT: None}
        services = get_services()
        try:
            district = services.check_agency_district(str(value))
        except DomainError as error:
            dispatcher.utter_message(
                text=error.message, buttons=district_buttons(services.agency_districts())
            )
            return {DISTRICT: None}
        return {DISTRICT: district}

    def validate_agency_town(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {TOWN: None}
        said = _TOWN_TAIL.sub("", _TOWN_LEAD.sub("", _PUNCTUATION.sub("", str(value))))
        district = tracker.get_slot(DISTRICT)
        if district and said.startswith(str(district)):
            said = said.removeprefix(str(district))  # 湄潭县永兴镇: the 县区 is asked on its own
        try:
            town = clean_text(said, field="town", label="乡镇或街道", max_chars=MAX_TOWN_CHARS, required=True)
        except DomainError as error:
            dispatcher.utter_message(text=error.message)
            return {TOWN: None}
        return {TOWN: town}

    def validate_agency_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {CONFIRMED: None}
        if value == confirmation.Answer.edit:
            return {CONFIRMED: None, EDITING: True}
        if value in EDITS:
            return {slot: None for slot in EDITS[value]} | {CONFIRMED: None, EDITING: None}
        if value == confirmation.Answer.no:
            dispatcher.utter_message(text="好的，代办申请没有提交。需要时说“申请代办”，随时可以重新登记。")
            return {CONFIRMED: "no", "requested_slot": None}
        if value != confirmation.Answer.yes:
            parts = "、".join(label.removeprefix("修改") for label in EDITS)
            hint = (
                f"请选择要修改的一项（{parts}）。"
                if tracker.get_slot(EDITING)
                else "请选“确认”提交代办申请，或选“修改”“取消”。"
            )
            dispatcher.utter_message(text=hint)
            return {CONFIRMED: None}
        return self._open(dispatcher, tracker)

    def _open(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """The request is opened here, after 确认; a refused answer is asked again and every
        other answer kept. The name and phone are revealed from their holds; an expired one is
        asked again."""
        name = personal_slots.reveal(tracker, NAME)
        phone = personal_slots.reveal(tracker, PHONE)
        lost = [kind for kind, value in (("name", name), ("phone", phone)) if value is None]
        if lost:
            dispatcher.utter_message(text=f"{personal_slots.expired(*lost)}请重新输入。")
            return {f"agency_{kind}": None for kind in lost} | {CONFIRMED: None}
        subject = subject_named(str(tracker.get_slot(SUBJECT) or ""))
        if subject is None:
            dispatcher.utter_message(text="这个事项现在查不到了，请重新说要代办的事项。")
            return {SUBJECT: None, CONFIRMED: None}
        try:
            opened = get_services().open_agency_request(
                AgencyRequestForm(
                    sender_id=tracker.sender_id,
                    name=name or "",
                    phone=phone or "",
                    district=str(tracker.get_slot(DISTRICT) or ""),
                    town=str(tracker.get_slot(TOWN) or ""),
                    service_id=subject.service_id,
                    bundle_id=subject.bundle_id,
                    channel=channel_of(tracker),
                ),
                bundles_dir=get_settings().knowledge.bundles_dir,
            )
        except DomainError as error:
            slot = FIELD_SLOTS.get(error.field or "")
            if slot is None:  # the database is down, or the conversation itself is refused
                dispatcher.utter_message(
                    text=f"{error.message}代办申请还没有提交，您填的信息都还在，请稍后再选“确认”。"
                )
                return {CONFIRMED: None}
            dispatcher.utter_message(text=error.message)
            return {slot: None, CONFIRMED: None}
        return {CONFIRMED: "yes", NUMBER: opened.tracking_number}


class _Ask(FormPrompt):
    """``action_ask_agency_form_<slot>``: the form's fixed questions."""

    form = FORM


class ActionAskAgencySubject(_Ask):
    slot = SUBJECT
    question = (
        "要代办哪个事项？可以说事项名称，如“残疾人证”“高龄补贴”，也可以说一件事，如“新生儿出生一件事”。"
    )


class ActionAskAgencyName(_Ask):
    slot = NAME
    question = "请告诉我申请人的姓名。"


class ActionAskAgencyPhone(_Ask):
    slot = PHONE
    question = "请留一个手机号：代办员会打这个电话联系您，查代办进度也要用到。"


class ActionAskAgencyDistrict(Action):
    def name(self) -> str:
        return f"action_ask_{FORM}_{DISTRICT}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if common.offered_this_turn(tracker, "district"):
            return []  # the refusal just offered the 县区 to choose from
        dispatcher.utter_message(
            text="您在哪个县区？请选择，或直接说，如“湄潭县”。",
            buttons=district_buttons(get_services().agency_districts()),
        )
        return []


class ActionAskAgencyTown(_Ask):
    slot = TOWN
    question = "在哪个乡镇或街道？如“永兴镇”“上海路街道”。"


class ActionAskAgencyConfirmed(Action):
    """The summary (name and phone masked) with 确认 / 修改 / 取消; after 修改, which part."""

    def name(self) -> str:
        return f"action_ask_{FORM}_{CONFIRMED}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot(EDITING):
            dispatcher.utter_message(text="要修改哪一项？", buttons=[_edit_button(label) for label in EDITS])
            return []
        dispatcher.utter_message(
            text="请核对代办申请：\n"
            f"事项：{tracker.get_slot(SUBJECT)}\n"
            f"申请人：{personal_slots.shown(tracker.get_slot(NAME))}\n"
            f"手机号：{personal_slots.shown(tracker.get_slot(PHONE))}\n"
            f"地址：{tracker.get_slot(DISTRICT)}{tracker.get_slot(TOWN)}\n"
            "确认提交吗？",
            buttons=confirmation.buttons(),
        )
        return []


class ActionReportAgency(Action):
    """After the form: the 代办编号, what happens next and how to ask after it."""

    def name(self) -> str:
        return "action_report_agency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = tracker.get_slot(NUMBER)
        if not number or tracker.get_slot(CONFIRMED) != "yes":
            return clear(tracker)  # 取消 at the summary: the validator already said so
        phone = personal_slots.shown(tracker.get_slot(PHONE))
        dispatcher.utter_message(
            text=f"代办申请已提交！代办编号：{number}（请记好，查进度要用）\n"
            f"事项：{tracker.get_slot(SUBJECT)}\n"
            f"地址：{tracker.get_slot(DISTRICT)}{tracker.get_slot(TOWN)}\n"
            f"接下来：当地代办员会打 {phone} 联系您，请保持电话畅通。代办不收费。\n"
            f"查进度：说“查代办进度 {number}”，再提供这个手机号。",
            json_message={"type": "agency", "tracking_number": number, "subject": tracker.get_slot(SUBJECT)},
        )
        return clear(tracker)


class ActionStopAgency(Action):
    """算了 in the middle: nothing is opened, and what was typed is forgotten."""

    def name(self) -> str:
        return "action_stop_agency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            text="好的，已停止，代办申请没有提交。需要时说“申请代办”，随时可以重新登记。"
        )
        return clear(tracker)
