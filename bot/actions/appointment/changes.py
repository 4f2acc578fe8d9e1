"""Which appointment task a request starts, cancel and reschedule by code, and the closing messages."""

from __future__ import annotations

import datetime as dt
import functools
import re
from abc import abstractmethod
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import confirmation, personal_slots
from bot.actions.appointment import common
from bot.actions.backend import get_services
from bot.actions.base import Action, FormValidationAction
from bot.actions.dates import describe_day, parse_when
from indexer.api import get_guide
from services.appointments import NOT_FOUND, Booking
from services.errors import BookingRefused, DomainError, NotFound, SlotFull
from services.identity import mask_phone, validate_phone
from services.models import AppointmentStatus

# The intent list is fixed (no reschedule intent), and residents say 改约 both as a new booking
# (“重新帮我约星期五”) and as a cancellation (“原来的不要了，改到下周”): the words decide.
RESCHEDULE = re.compile(
    r"改约|改期|改[到成在]|改(一下|个)?时间|换(个|一个|一下)?时间|重新(帮我)?约|推迟|延后|往后推|提前到"
)
Validator = Callable[[Any, Any, CollectingDispatcher, Tracker, DomainDict], dict[str, Any]]
HOW_TO_CHANGE = "如需取消或改期，请说“取消预约”或“改约”，并提供预约码和预约时留的手机号。"


class ActionRouteAppointment(Action):
    """Sets appointment_task (book / reschedule / cancel); rules then start the matching form."""

    def name(self) -> str:
        return "action_route_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = str(tracker.latest_message.get("text") or "")
        tapped = common.entity(tracker, "appointment_task")  # the booking card's 改约 button
        if tapped == "reschedule" or RESCHEDULE.search(text):
            task = "reschedule"
        elif common.intent_of(tracker) == "cancel_appointment":
            task = "cancel"
        else:
            task = "book"
        events: list[EventType] = [SlotSet(slot, None) for slot in common.BOOKING_SLOTS]
        events.append(SlotSet("appointment_task", task))
        code = common.entity(tracker, "booking_code") or common.booking_code_in(text)
        if code and task != "book":
            events.append(SlotSet("booking_code", code))
        # 帮我约明天上午 / 改到下周三: the day is kept and checked once the hall is known.
        when = parse_when(text, common.today()) if task != "cancel" and not text.startswith("/") else None
        if when and when.day:
            events.append(SlotSet("booking_date", when.day.isoformat()))
        if when and when.period:
            events.append(SlotSet("booking_period", when.period))
        return events


def _said(validate: Validator) -> Validator:
    """Validate only what was said: the router clears every booking slot before the form starts,
    and the SDK "validates" those empty values too, which opened the cancel form with errors
    (手机号只能包含数字…预约码是…) before it asked anything."""

    @functools.wraps(validate)
    def checked(
        self: Any, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        slot = validate.__name__.removeprefix("validate_")
        if value is None or personal_slots.is_held(value):
            return {slot: value}  # a held phone was checked when it was given
        return validate(self, value, dispatcher, tracker, domain)

    return checked


def _code(value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    code = common.booking_code_in(str(value))
    if code is None:
        dispatcher.utter_message(
            text="预约码是预约成功时给您的8位字母和数字（例如 7KQ4MZ2A），请核对后再输入。"
        )
    return {"booking_code": code}


def _phone(value: Any, dispatcher: CollectingDispatcher) -> str | None:
    try:
        return validate_phone(str(value))
    except DomainError as error:
        dispatcher.utter_message(text=f"{error.message}请输入预约时留的手机号。")
        return None


def _held_phone(tracker: Tracker, phone: str | None) -> dict[str, str] | None:
    """The slot value for a checked phone: its mask and a reference (see personal_slots)."""
    return personal_slots.hold(tracker, "phone", phone) if phone else None


class _ByCodeForm(FormValidationAction):
    """Code and phone: shared by cancelling and rescheduling."""

    interruptions = common.INTERRUPTIONS
    cancelling = False  # whether the summary asks "cancel it?", where a typed 取消 means yes

    @abstractmethod
    def name(self) -> str: ...

    async def extract_booking_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return common.summary_answer(tracker, self.interruptions, cancelling=self.cancelling)

    async def extract_booking_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(tracker.latest_message.get("text") or "")
        found = common.booking_code_in(text) if tracker.get_slot("booking_code") is None else None
        value = found or common.answer_text(tracker, "booking_code", self.interruptions)
        return {"booking_code": value} if value else {}

    async def extract_booking_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return common.extracted(tracker, "booking_phone", "phone", interruptions=self.interruptions)

    @_said
    def validate_booking_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return _code(value, dispatcher)

    @_said
    def validate_booking_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"booking_phone": _held_phone(tracker, _phone(value, dispatcher))}


def _changeable(tracker: Tracker, phone: str, dispatcher: CollectingDispatcher) -> Booking | None:
    """The booking behind the code and phone, when it can still be changed; else says why.
    The code alone shows the masked booking, so comparing masks reveals nothing more; cancel()
    and reschedule() themselves check the full phone."""
    try:
        booking = get_services().booking(str(tracker.get_slot("booking_code")))
    except NotFound:
        booking = None
    if booking is None or booking.phone_masked != mask_phone(phone):
        dispatcher.utter_message(text=NOT_FOUND)
        return None
    if booking.status is not AppointmentStatus.booked or booking.start <= get_services().context().now:
        dispatcher.utter_message(text="该预约已取消、已失效或时间已过，不能再取消或改期。")
        return None
    return booking


def _describe(booking: Booking) -> str:
    return (
        f"「{booking.service_name}」，{booking.hall_name}，"
        f"{describe_day(booking.start.date(), common.today())} {booking.start:%H:%M}"
    )


class ValidateCancelBookingForm(_ByCodeForm):
    """Code, phone, then "确认取消吗？": nothing is cancelled on a misread word."""

    # Saying 取消预约 again while asked for the code is an answer, not a reason to stop.
    interruptions = common.INTERRUPTIONS - {"cancel_appointment"}
    cancelling = True

    def name(self) -> str:
        return "validate_cancel_booking_form"

    @_said
    def validate_booking_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        phone = _phone(value, dispatcher)
        if phone is None or tracker.get_slot("booking_code") is None:
            return {"booking_phone": _held_phone(tracker, phone)}
        if _changeable(tracker, phone, dispatcher) is None:
            return {"booking_code": None, "booking_phone": None}
        return {"booking_phone": _held_phone(tracker, phone), "booking_confirmed": None}

    @_said
    def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value == confirmation.Answer.yes:
            return {"booking_confirmed": "yes"}
        if value == confirmation.Answer.no:
            return {"booking_confirmed": "no", "requested_slot": None}
        dispatcher.utter_message(text="请选“确认取消”，或选“不取消”保留这个预约。")
        return {"booking_confirmed": None}


class ActionAskCancelConfirmed(Action):
    def name(self) -> str:
        return "action_ask_cancel_booking_form_booking_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        booking = get_services().booking(str(tracker.get_slot("booking_code")))
        dispatcher.utter_message(
            text=f"找到您的预约：{_describe(booking)}。确认取消这个预约吗？",
            buttons=confirmation.buttons(yes="确认取消", edit=None, no="不取消"),
        )
        return []


class ValidateRescheduleBookingForm(common.DayAndTimeExtraction, _ByCodeForm):
    def name(self) -> str:
        return "validate_reschedule_booking_form"

    @_said
    def validate_booking_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Looks the booking up before asking for a new day, so a wrong code or phone is said at once."""
        phone = _phone(value, dispatcher)
        if phone is None or tracker.get_slot("booking_code") is None:
            return {"booking_phone": _held_phone(tracker, phone)}
        booking = _changeable(tracker, phone, dispatcher)
        if booking is None:
            return {"booking_code": None, "booking_phone": None}
        dispatcher.utter_message(text=f"找到您的预约：{_describe(booking)}。")
        result: dict[str, Any] = {
            "booking_phone": _held_phone(tracker, phone),
            "booking_hall": booking.hall_id,
        }
        day = tracker.get_slot("booking_date")
        if (
            day
            and common.check_day(dispatcher, booking.hall_id, booking.service_id, dt.date.fromisoformat(day))
            is None
        ):
            result["booking_date"] = None  # said with the request (改到后天) but not open
        return result | {"service": booking.service_name}

    @_said
    def validate_booking_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        hall, service_id = _offer(tracker)
        return common.validate_day(value, dispatcher, tracker, hall, service_id)

    @_said
    def validate_booking_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        hall, service_id = _offer(tracker)
        if not hall or not service_id:
            return {"booking_time": None}
        result = common.validate_slot_time(value, dispatcher, tracker, hall, service_id)
        return result | {"booking_confirmed": None} if result.get("booking_time") else result

    @_said
    def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Moving happens on 确认改约 only; a slot taken in the meantime is offered again."""
        if value == confirmation.Answer.no:
            return {"booking_confirmed": "no", "requested_slot": None}
        if value == confirmation.Answer.edit:
            return {"booking_date": None, "booking_time": None, "booking_confirmed": None}
        if value != confirmation.Answer.yes:
            dispatcher.utter_message(text="请选“确认改约”，或选“换个时间”“不改了”。")
            return {"booking_confirmed": None}
        phone = personal_slots.reveal(tracker, "booking_phone")
        if phone is None:
            dispatcher.utter_message(text=f"{personal_slots.expired('phone')}请重新输入预约时留的手机号。")
            return {"booking_phone": None, "booking_confirmed": None}
        try:
            get_services().reschedule(
                str(tracker.get_slot("booking_code")),
                phone,
                common.slot_start(tracker),
                actor=tracker.sender_id,
            )
        except (SlotFull, BookingRefused) as error:
            dispatcher.utter_message(text=f"{error.message}请重新选择时段。")
            return {"booking_time": None, "booking_confirmed": None}
        except DomainError as error:
            dispatcher.utter_message(text=error.message)
            return {"booking_date": None, "booking_time": None, "booking_confirmed": None}
        return {"booking_confirmed": "yes"}


class ActionAskRescheduleConfirmed(Action):
    def name(self) -> str:
        return "action_ask_reschedule_booking_form_booking_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        booking = get_services().booking(str(tracker.get_slot("booking_code")))
        start = common.slot_start(tracker)
        dispatcher.utter_message(
            text=f"把您的预约{_describe(booking)}，改到{describe_day(start.date(), common.today())} "
            f"{start:%H:%M}，确认吗？",
            buttons=confirmation.buttons(yes="确认改约", edit="换个时间", no="不改了"),
        )
        return []


def _offer(tracker: Tracker) -> tuple[str | None, str | None]:
    guide = get_guide(str(tracker.get_slot("service") or ""))
    return tracker.get_slot("booking_hall"), guide.id if guide else None


def _clear(tracker: Tracker) -> list[EventType]:
    """The task is over: its slots are emptied and the numbers it held forgotten."""
    personal_slots.forget(tracker)
    return [SlotSet(slot, None) for slot in (*common.BOOKING_SLOTS, "appointment_task")]


def _when(booking: Booking) -> str:
    return f"{describe_day(booking.start.date(), common.today())} {booking.start:%H:%M}-{booking.end:%H:%M}"


def _card(booking: Booking) -> dict[str, Any]:
    return {
        "type": "booking",
        "code": booking.code,
        "status": booking.status.value,
        "service": booking.service_name,
        "hall": booking.hall_name,
        "address": booking.hall_address,
        "window": booking.window,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
    }


class ActionReportBooking(Action):
    """After the booking or reschedule form: the receipt, what to bring, how to change it."""

    def name(self) -> str:
        return "action_report_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = tracker.get_slot("booking_code")
        if not code or tracker.get_slot("booking_confirmed") == "no":
            return _clear(tracker)
        booking = get_services().booking(str(code))
        guide = get_guide(booking.service_id)
        materials = "、".join(m.name for m in guide.materials if m.required) if guide else ""
        done = "改期成功" if tracker.get_slot("appointment_task") == "reschedule" else "预约成功"
        dispatcher.utter_message(
            text=f"{done}！预约码：{booking.code}（请记好，取消或改期时要用）\n"
            f"事项：{booking.service_name}\n"
            f"时间：{_when(booking)}\n"
            f"地点：{booking.hall_name}，{booking.hall_address}，{booking.window}\n"
            f"电话：{booking.hall_phone}\n"
            f"预约人：{booking.name_masked}，手机 {booking.phone_masked}\n"
            + (f"请带齐材料：{materials}（选“查看材料”看原件/复印件要求）\n" if materials else "")
            + HOW_TO_CHANGE,
            buttons=[
                {"title": "查看材料", "payload": f'/ask_materials{{"service": "{booking.service_name}"}}'}
            ],
            json_message=_card(booking),
        )
        return _clear(tracker)


class ActionCancelBooking(Action):
    def name(self) -> str:
        return "action_cancel_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("booking_confirmed") != "yes":
            dispatcher.utter_message(text="好的，没有取消，原预约保持不变。")
            return _clear(tracker)
        phone = personal_slots.reveal(tracker, "booking_phone")
        if phone is None:
            dispatcher.utter_message(
                text=f"{personal_slots.expired('phone')}预约没有取消，请重新说“取消预约”。"
            )
            return _clear(tracker)
        try:
            booking = get_services().cancel(
                str(tracker.get_slot("booking_code")),
                phone,
                actor=tracker.sender_id,
            )
        except NotFound:
            dispatcher.utter_message(text=NOT_FOUND)
        except DomainError as error:
            dispatcher.utter_message(text=error.message)
        else:
            dispatcher.utter_message(
                text=f"已取消预约 {booking.code}：「{booking.service_name}」，"
                f"{booking.hall_name}，{_when(booking)}。需要时可以重新预约。",
                json_message=_card(booking),
            )
        return _clear(tracker)


class ActionStopAppointment(Action):
    """算了/不约了 in the middle of a form: nothing is booked or changed, and what was typed is forgotten."""

    def name(self) -> str:
        return "action_stop_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        task = tracker.get_slot("appointment_task")
        what = {"cancel": "没有取消任何预约", "reschedule": "原预约保持不变"}.get(task or "", "没有为您预约")
        dispatcher.utter_message(text=f"好的，已停止，{what}。需要时随时告诉我。")
        return _clear(tracker)
