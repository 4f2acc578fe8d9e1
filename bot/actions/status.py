"""The application-status form: number plus proof, answered only when they match.

The same form answers for a 代办 request (DB…): its proof can only be the phone it was opened with."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import personal_slots
from bot.actions.backend import get_services
from bot.actions.base import Action, FormValidationAction
from services import agency
from services.applications import NEUTRAL_ANSWER, normalise_number
from services.errors import DomainError, RateLimited
from services.feedback import COMPLAINT_PREFIX
from services.identity import validate_phone
from services.models import AgencyStatus

# Said in one message (查进度 ZW202611030012 身份证后六位12123X): the number and the proof are
# both taken, so nothing is asked twice.
_NUMBER_IN_TEXT = re.compile(r"(?<![A-Za-z])(?:ZW|TS|DB)\s*\d{12}(?!\d)", re.IGNORECASE)
_PROOF_IN_TEXT = re.compile(
    r"后\s*[六6]\s*位\s*(?:是|为|[:：])?\s*(\d{5}[\dXx])(?![\dXx])|(?<!\d)(1[3-9]\d{9})(?!\d)"
)


_FORGOT = re.compile(r"不记得|记不得|忘了|忘记|找不到|搞掉|弄丢|丢了|没有|莫得|没得|不晓得|不知道")
NO_NUMBER_HELP = (
    "办件编号印在受理回执（或受理短信）上，以 ZW 开头；投诉受理编号以 TS 开头；代办编号以 DB 开头。"
    "找不到的话，可以带身份证到受理窗口查询，或拨打政务服务热线 12345。"
)


def _is_complaint(number: str) -> bool:
    return number.upper().startswith(COMPLAINT_PREFIX)


def _is_agency(number: Any) -> bool:
    return "".join(str(number or "").split()).upper().startswith(agency.NUMBER_PREFIX)


class ActionAskApplicationNumber(Action):
    """Form prompts are actions rather than utter_ask_* responses: Rasa's validator counts
    a response as unused unless a story names it, and forms never do."""

    def name(self) -> str:
        return "action_ask_application_status_form_application_number"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        said = tracker.latest_message.get("text") or ""
        if "代办" in said:  # 查代办进度: the number of the 代办 request, not an 办件's
            text = "请告诉我代办编号（申请代办时给您的以 DB 开头的编号，例如 DB202611300001）。"
        elif re.search("投诉|举报", said):
            text = "请告诉我投诉受理编号（以 TS 开头，例如 TS202611300001）。"
        else:
            text = (
                "请告诉我办件编号（受理回执上以 ZW 开头的14位编号，例如 ZW202611030012）；"
                "查投诉告诉我投诉受理编号（TS 开头），查代办告诉我代办编号（DB 开头）。"
            )
        dispatcher.utter_message(text=text)
        return []


class ActionAskStatusProof(Action):
    def name(self) -> str:
        return "action_ask_application_status_form_status_proof"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if _is_agency(tracker.get_slot("application_number")):
            dispatcher.utter_message(text="为保护您的信息，请再提供申请代办时留的手机号。")
        else:
            dispatcher.utter_message(
                text="为保护您的信息，请再提供申请人身份证号的后6位，或办件时留的手机号。"
            )
        return []


class ValidateApplicationStatusForm(FormValidationAction):
    """办件 (ZW…) need the number and a proof; a complaint's number (TS…) shows only its state,
    which anyone holding the number may see."""

    def name(self) -> str:
        return "validate_application_status_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if _is_complaint(str(tracker.get_slot("application_number") or "")):
            return ["application_number"]
        return domain_slots

    async def extract_application_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(tracker.latest_message.get("text") or "")
        found = _NUMBER_IN_TEXT.search(text)
        if found:
            return {"application_number": found.group(0)}
        if tracker.get_slot("requested_slot") == "application_number" and _FORGOT.search(text):
            dispatcher.utter_message(text=NO_NUMBER_HELP)
            return {"requested_slot": None}  # nothing to look up: the check ends here
        return {}

    async def extract_status_proof(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") == "status_proof":
            return {}  # the slot's own mappings read the answer to the question
        found = _PROOF_IN_TEXT.search(str(tracker.latest_message.get("text") or ""))
        return {"status_proof": found.group(1) or found.group(2)} if found else {}

    def validate_application_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = "".join(str(value).split()).upper()
        if _is_complaint(number):
            return {"application_number": number}
        check = agency.normalise_number if _is_agency(number) else normalise_number
        try:
            return {"application_number": check(number)}
        except DomainError as error:
            dispatcher.utter_message(text=error.message)
            return {"application_number": None}

    def validate_status_proof(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """ID tail as said (a whole 身份证号 is cut to it); a phone number is held, and the slot
        keeps its mask and a reference (personal_slots)."""
        if personal_slots.is_held(value):
            return {"status_proof": value}
        proof = "".join(str(value).split()).upper()
        if _is_agency(tracker.get_slot("application_number")):
            return self._agency_phone(proof, dispatcher, tracker)
        if len(proof) in (6, 18):
            return {"status_proof": proof[-6:]}
        try:
            phone = validate_phone(proof) if len(proof) == 11 else None
        except DomainError:
            phone = None
        if phone:
            return {"status_proof": personal_slots.hold(tracker, "phone", phone)}
        dispatcher.utter_message(text="请输入身份证号后6位（如 02001X），或11位手机号。")
        return {"status_proof": None}

    @staticmethod
    def _agency_phone(proof: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """A 代办 request was opened with a phone only: an ID tail proves nothing about it."""
        try:
            phone = validate_phone(proof)
        except DomainError:
            dispatcher.utter_message(text="查代办进度请输入申请代办时留的11位手机号。")
            return {"status_proof": None}
        return {"status_proof": personal_slots.hold(tracker, "phone", phone)}


class ActionStopStatusCheck(Action):
    """算了 in the middle of the status check: forget what was typed and say how to come back."""

    def name(self) -> str:
        return "action_stop_status_check"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if _FORGOT.search(str(tracker.latest_message.get("text") or "")):
            dispatcher.utter_message(text=NO_NUMBER_HELP)  # 不记得号码了 read as 算了
        else:
            dispatcher.utter_message(text="好的，先不查了。需要时说“查办件进度”，随时可以再查。")
        personal_slots.forget(tracker)
        return [SlotSet("application_number", None), SlotSet("status_proof", None)]


class ActionCheckApplicationStatus(Action):
    def name(self) -> str:
        return "action_check_application_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        number = tracker.get_slot("application_number") or ""
        held = personal_slots.is_held(tracker.get_slot("status_proof"))
        proof = personal_slots.reveal(tracker, "status_proof") if held else tracker.get_slot("status_proof")
        personal_slots.forget(tracker)
        clear = [SlotSet("application_number", None), SlotSet("status_proof", None)]
        if not number:
            return clear  # the resident had no number; the form already said where to find one
        if _is_complaint(number):
            self._complaint(dispatcher, number)
            return clear
        if held and proof is None:
            dispatcher.utter_message(text=f"{personal_slots.expired('phone')}请重新说“查办件进度”。")
            return clear
        if _is_agency(number):
            self._agency(dispatcher, number, proof or "", tracker.sender_id)
            return clear
        try:
            found = get_services().lookup_application(number, proof or "", tracker.sender_id)
        except RateLimited as error:
            dispatcher.utter_message(text=error.message)
            return clear
        except DomainError:
            found = None
        if found is None:
            dispatcher.utter_message(text=NEUTRAL_ANSWER)
            return clear
        steps = "\n".join(f"{step.at:%m-%d %H:%M} {step.label}" for step in found.timeline)
        promised = f"\n承诺办结日期：{found.promised_date:%Y年%m月%d日}" if found.promised_date else ""
        missing = f"\n需补正材料：{'、'.join(found.missing_materials)}" if found.missing_materials else ""
        dispatcher.utter_message(
            text=f"办件 {found.number}（{found.service_name}）当前状态：{found.status_label}"
            f"{promised}{missing}\n{steps}",
            json_message={"type": "application_status", "number": found.number, "status": found.status.value},
        )
        return clear

    @staticmethod
    def _agency(dispatcher: CollectingDispatcher, number: str, phone: str, sender_id: str) -> None:
        try:
            found = get_services().agency_status(number, phone, sender_id)
        except RateLimited as error:
            dispatcher.utter_message(text=error.message)
            return
        except DomainError:
            found = None
        if found is None:
            dispatcher.utter_message(text=agency.NEUTRAL_ANSWER)
            return
        if found.status is AgencyStatus.received:
            next_step = "代办员分派后会打您留的手机联系您，请保持电话畅通。"
        elif found.status in agency.FINISHED:
            next_step = "如有疑问请拨打 12345。"
        else:
            next_step = "代办员会打您留的手机联系您，请保持电话畅通。"
        dispatcher.utter_message(
            text=f"代办申请 {found.tracking_number}（{found.subject_name}，{found.district}{found.town}）"
            f"当前状态：{found.status_label}"
            f"（登记于{found.created_at:%m月%d日}，最近更新{found.updated_at:%m月%d日 %H:%M}）。{next_step}",
            json_message={
                "type": "agency_status",
                "number": found.tracking_number,
                "status": found.status.value,
            },
        )

    @staticmethod
    def _complaint(dispatcher: CollectingDispatcher, number: str) -> None:
        try:
            found = get_services().complaint_status(number)
        except DomainError:
            dispatcher.utter_message(
                text=f"没有找到受理编号为 {number} 的投诉，请核对编号，或拨打 12345 查询。"
            )
            return
        dispatcher.utter_message(
            text=f"{found.kind_label} {found.tracking_number} 当前状态：{found.status_label}"
            f"（登记于{found.created_at:%m月%d日}，最近更新{found.updated_at:%m月%d日 %H:%M}）。"
            "处理结果会通过您留的联系方式告知；着急可拨打 12345 催办。",
            json_message={
                "type": "complaint_status",
                "number": found.tracking_number,
                "status": found.status.value,
            },
        )
