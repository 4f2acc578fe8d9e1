"""The booking form: service, hall, day, slot, name, 身份证号, phone, then confirm and book."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import confirmation, personal_slots
from bot.actions.appointment import common
from bot.actions.appointment.halls import hall_choice, resolve_hall
from bot.actions.backend import channel_of, get_services
from bot.actions.base import Action
from bot.actions.dates import describe_day, parse_period
from services.appointments import BookingRequest
from services.errors import AlreadyBooked, BookingRefused, DomainError, SlotFull
from services.identity import validate_id_number, validate_name, validate_phone

# Replies that answer "what is your name?" without a name; taking them would book under "好的".
_NAME_LEAD = re.compile(r"^(我叫|我是|名字叫|名字是|姓名[:：]?|叫)")

# 修改 first shows these; each clears what it names and the form asks for it again.
EDITS = {
    "修改事项": ("service", "booking_hall", "booking_date", "booking_time"),
    "修改大厅": ("booking_hall", "booking_date", "booking_time"),
    "修改时间": ("booking_date", "booking_time", "booking_period"),
    "修改姓名": ("booking_name",),
    "修改身份证号": ("booking_id_number",),
    "修改手机号": ("booking_phone",),
}


def _edit_button(label: str) -> dict[str, str]:
    """修改姓名 … as a structured payload: the bare words went through the NLU, which took 修改 for
    a service."""
    return {"title": label.removeprefix("修改"), "payload": f'/inform{{"{confirmation.ENTITY}": "{label}"}}'}


def _service_id(tracker: Tracker) -> str | None:
    guide = common.guide_for(tracker.get_slot("service"))
    return guide.id if guide else None


def _previous(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest message (the tracker already holds the new one)."""
    user_turns = [i for i, event in enumerate(tracker.events) if event.get("event") == "user"]
    before = user_turns[-1] if user_turns else len(tracker.events)
    for event in reversed(tracker.events[:before]):
        if event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


class ValidateBookingForm(common.DayAndTimeExtraction, common.OrderedFormValidation):
    def name(self) -> str:
        return "validate_booking_form"

    # Extraction: entities whenever they come, typed text only for the slot that was asked,
    # and the whole opening message (预约后天去市中心办护照) for what it names.
    async def extract_service(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if common.entity(tracker, "service"):
            return {}  # the slot's own mapping took it
        text = common.answer_text(tracker, "service")
        if text:
            return {"service": text}
        opening = common.opening_text(tracker)
        guide = common.guide_named_in(opening) if opening else None
        return {"service": guide.name} if guide and guide.name != tracker.get_slot("service") else {}

    async def extract_booking_hall(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        opening = common.opening_text(tracker)
        # The NLU may tag only part of a colloquial name (政务大厅 of 汇川的政务大厅): when the
        # opening message names a hall, the whole message is resolved.
        if opening and resolve_hall(opening, common.hall_directory(), sound_alike=False).halls:
            return {"booking_hall": opening}
        return common.extracted(tracker, "booking_hall", "hall", "district")

    async def extract_booking_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return common.extracted_name(tracker, "booking_name")

    async def extract_booking_id_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return common.extracted(tracker, "booking_id_number", "id_number")

    async def extract_booking_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return common.extracted(tracker, "booking_phone", "phone")

    async def extract_booking_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "booking_confirmed":
            return {}
        text = str(tracker.latest_message.get("text") or "").strip()
        tapped = common.entity(tracker, confirmation.ENTITY)
        if tapped in EDITS:
            return {"booking_confirmed": tapped}  # which part to change, tapped
        if text in EDITS:
            return {"booking_confirmed": text}  # …or typed (修改姓名)
        named = next((label for label in EDITS if label.removeprefix("修改").rstrip("号") in text), None)
        if tracker.get_slot("booking_editing") and named:
            return {"booking_confirmed": named}  # 时间 / 时间改成下午三点, once 修改哪一项 was asked
        return common.summary_answer(tracker)

    # Validation
    def validate_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        guide = common.guide_for(str(value))
        previous = common.guide_for(_previous(tracker, "service"))
        if guide is None and previous is not None and tracker.get_slot("requested_slot") != "service":
            # A word the NLU took for a service on the way (修改 of 修改手机号, tagged at 0.49)
            # must not throw away the service the form already has.
            return {"service": previous.name}
        if guide is None:
            dispatcher.utter_message(
                text="没有找到这个事项，请换个说法，例如“办社保卡”“低保申请”“结婚登记”。"
            )
            return {"service": None}
        halls = common.halls_for(guide)
        if not halls:
            dispatcher.utter_message(
                text=f"「{guide.name}」暂不能预约大厅办理。{guide.online.how or ''}如需帮助请拨打 12345。"
            )
            return {"service": None}
        result: dict[str, Any] = {"service": guide.name}
        hall = tracker.get_slot("booking_hall")
        if previous and previous.name != guide.name and hall and common.opening_text(tracker) is None:
            # A different service: the slot belonged to the old one, and the hall may not offer this one.
            result.update(booking_time=None, booking_confirmed=None)
            if hall not in {h.id for h in halls}:
                result.update(booking_hall=None, booking_date=None)
            dispatcher.utter_message(text=f"好的，改为预约「{guide.name}」。")
        return result

    def validate_booking_hall(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A hall by name, short name, district or alias; one that is unknown, offers another
        service only, or is one of several named is not guessed: the resident chooses."""
        guide = common.guide_for(tracker.get_slot("service"))
        directory = common.hall_directory()
        offered = common.halls_for(guide) if guide else directory
        match = resolve_hall(str(value), directory)
        hall = match.hall
        if hall is None or hall not in offered:
            choice = hall_choice(match, offered, guide.name if guide else None)
            dispatcher.utter_message(text=choice.text, buttons=common.hall_buttons(choice.halls))
            return {"booking_hall": None}
        result: dict[str, Any] = {"booking_hall": hall.id}
        day = tracker.get_slot("booking_date")
        # A day given before the hall was known is checked now; one said in this message is checked next.
        if guide and day and "booking_date" not in tracker.slots_to_validate():
            slots = common.check_day(dispatcher, hall.id, guide.id, dt.date.fromisoformat(str(day)))
            if slots is None:
                result.update(booking_date=None, booking_time=None)
        return result

    def validate_booking_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        hall = tracker.get_slot("booking_hall")
        result = common.validate_day(value, dispatcher, tracker, hall, _service_id(tracker))
        return {**result, "booking_confirmed": None}

    def validate_booking_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        hall, service_id = tracker.get_slot("booking_hall"), _service_id(tracker)
        if not hall or not service_id or not tracker.get_slot("booking_date"):
            # Said with the request, or with a day that was refused: the slot is picked later.
            return {"booking_time": None, "booking_period": parse_period(str(value))}
        return {
            **common.validate_slot_time(value, dispatcher, tracker, hall, service_id),
            "booking_confirmed": None,
        }

    def validate_booking_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        said = _NAME_LEAD.sub("", str(value).strip())
        try:
            return {"booking_name": validate_name(said)}
        except DomainError as error:
            dispatcher.utter_message(text=error.message)
            return {"booking_name": None}

    def validate_booking_id_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The slot gets the mask and a reference; the number is held server-side (personal_slots)."""
        if personal_slots.is_held(value):
            return {"booking_id_number": value}
        try:
            number = validate_id_number(str(value), today=common.today())
        except DomainError as error:
            dispatcher.utter_message(text=f"{error.message}请重新输入身份证号。")
            return {"booking_id_number": None}
        return {"booking_id_number": personal_slots.hold(tracker, "id_number", number)}

    def validate_booking_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if personal_slots.is_held(value):
            return {"booking_phone": value}
        try:
            phone = validate_phone(str(value))
        except DomainError as error:
            dispatcher.utter_message(text=f"{error.message}请重新输入手机号。")
            return {"booking_phone": None}
        return {"booking_phone": personal_slots.hold(tracker, "phone", phone)}

    def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value == confirmation.Answer.edit:
            return {"booking_confirmed": None, "booking_editing": True}
        if value in EDITS:
            return {slot: None for slot in EDITS[value]} | {
                "booking_confirmed": None,
                "booking_editing": None,
            }
        if value == confirmation.Answer.no:
            dispatcher.utter_message(text="好的，没有为您预约。需要时随时告诉我。")
            return {"booking_confirmed": "no", "requested_slot": None}
        if value != confirmation.Answer.yes:
            parts = "、".join(label.removeprefix("修改") for label in EDITS)
            hint = (
                f"请选择要修改的一项（{parts}）。"
                if tracker.get_slot("booking_editing")
                else ("请选“确认”预约，或选“修改”“取消”。")
            )
            dispatcher.utter_message(text=hint)
            return {"booking_confirmed": None}
        return self._book(dispatcher, tracker)

    def _book(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """Booking happens here, not after the form, so that a refusal (the slot went in the
        meantime, a typo the backend caught) sends the form back to exactly that question. The ID
        and phone numbers are revealed from their holds; one that expired is asked again."""
        id_number = personal_slots.reveal(tracker, "booking_id_number")
        phone = personal_slots.reveal(tracker, "booking_phone")
        if id_number is None or phone is None:
            lost = [kind for kind, value in (("id_number", id_number), ("phone", phone)) if value is None]
            dispatcher.utter_message(text=f"{personal_slots.expired(*lost)}请重新输入。")
            return {f"booking_{kind}": None for kind in lost} | {"booking_confirmed": None}
        try:
            booking = get_services().book(
                BookingRequest(
                    hall_id=str(tracker.get_slot("booking_hall")),
                    service_id=str(_service_id(tracker)),
                    start=common.slot_start(tracker),
                    name=str(tracker.get_slot("booking_name")),
                    id_number=id_number,
                    phone=phone,
                    sender_id=tracker.sender_id,
                    channel=channel_of(tracker),
                )
            )
        except (SlotFull, BookingRefused) as error:
            dispatcher.utter_message(text=f"{error.message}请重新选择时段。")
            return {"booking_time": None, "booking_confirmed": None}
        except AlreadyBooked as error:
            dispatcher.utter_message(text=f"{error.message}请说“改约”并提供预约码。")
            return {"booking_confirmed": "no"}
        except DomainError as error:
            dispatcher.utter_message(text=error.message)
            slot = {"name": "booking_name", "id_number": "booking_id_number", "phone": "booking_phone"}
            return {slot.get(error.field or "", "booking_hall"): None, "booking_confirmed": None}
        return {"booking_confirmed": "yes", "booking_code": booking.code}


class ActionAskBookingHall(Action):
    def name(self) -> str:
        return "action_ask_booking_form_booking_hall"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if common.offered_this_turn(tracker, "hall"):
            return []  # the refusal just offered the halls to choose from
        guide = common.guide_for(tracker.get_slot("service"))
        halls = common.halls_for(guide) if guide else []
        dispatcher.utter_message(
            text=f"请选择办理「{guide.name if guide else ''}」的政务服务大厅（也可以直接说区县名称）：",
            buttons=common.hall_buttons(halls),
        )
        return []


class ActionAskBookingDate(Action):
    """Asks for the day; the next open days are offered as buttons."""

    def __init__(self, form: str = "booking_form") -> None:
        self.form = form

    def name(self) -> str:
        return f"action_ask_{self.form}_booking_date"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if common.offered_this_turn(tracker, "date"):
            return []  # the day said was refused with the reason and the nearest open days
        hall, service_id = tracker.get_slot("booking_hall"), _service_id(tracker)
        days = common.next_open_days(hall, service_id, common.today()) if hall and service_id else []
        dispatcher.utter_message(
            text=f"请问哪天去办理？{common.DAY_HINT}，或选择最近可约的日期：",
            buttons=common.day_buttons(days),
        )
        return []


class ActionAskRescheduleDate(ActionAskBookingDate):
    def __init__(self) -> None:
        super().__init__("reschedule_booking_form")


class ActionAskBookingTime(Action):
    def __init__(self, form: str = "booking_form") -> None:
        self.form = form

    def name(self) -> str:
        return f"action_ask_{self.form}_booking_time"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        hall, service_id = tracker.get_slot("booking_hall"), _service_id(tracker)
        if hall and service_id:
            common.ask_for_slot(dispatcher, tracker, hall, service_id)
        return []


class ActionAskRescheduleTime(ActionAskBookingTime):
    def __init__(self) -> None:
        super().__init__("reschedule_booking_form")


class ActionAskBookingConfirmed(Action):
    def name(self) -> str:
        return "action_ask_booking_form_booking_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("booking_editing"):
            dispatcher.utter_message(
                text="要修改哪一项？",
                buttons=[_edit_button(label) for label in EDITS],
            )
            return []
        hall_id = tracker.get_slot("booking_hall")
        hall = next((h for h in get_services().halls() if h.id == hall_id), None)
        start = common.slot_start(tracker)
        dispatcher.utter_message(
            text="请核对预约信息：\n"
            f"事项：{tracker.get_slot('service')}\n"
            f"大厅：{hall.name if hall else hall_id}\n"
            f"时间：{describe_day(start.date(), common.today())} {start:%H:%M}\n"
            f"姓名：{tracker.get_slot('booking_name')}\n"
            f"身份证号：{personal_slots.shown(tracker.get_slot('booking_id_number'))}\n"
            f"手机号：{personal_slots.shown(tracker.get_slot('booking_phone'))}\n"
            "确认预约吗？",
            buttons=confirmation.buttons(),
        )
        return []
