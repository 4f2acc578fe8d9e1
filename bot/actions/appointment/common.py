"""What booking, rescheduling and cancelling share: reading the message, days, free slots, buttons."""

from __future__ import annotations

import datetime as dt
import inspect
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import confirmation
from bot.actions.appointment.halls import HallName, hall_names, load_aliases
from bot.actions.backend import get_services
from bot.actions.base import FormValidationAction
from bot.actions.dates import describe_day, parse_clock, parse_when
from core.settings import get_settings
from indexer.api import get_guide, search
from indexer.schema import Guide
from indexer.search import QueryError
from services.appointments import SlotView
from services.errors import DomainError
from services.numbers import CODE_ALPHABET

# Intents that leave the requested slot alone so the form rejects the turn and a rule answers it
# (a question about materials, 算了, 转人工); everything else is read as an answer to the question.
INTERRUPTIONS = frozenset(
    {
        "ask_materials",
        "ask_eligibility",
        "ask_process",
        "ask_fee",
        "ask_time_limit",
        "ask_location",
        "ask_policy",
        "bot_challenge",
        "request_human",
        "deny",
        "cancel_appointment",
    }
)
PERSONAL_SLOTS = ("booking_name", "booking_id_number", "booking_phone")
BOOKING_SLOTS = (
    "booking_hall",
    "booking_date",
    "booking_period",
    "booking_time",
    *PERSONAL_SLOTS,
    "booking_confirmed",
    "booking_editing",
    "booking_code",
)
CODE_IN_TEXT = re.compile(rf"(?<![0-9A-Za-z])[{CODE_ALPHABET}{CODE_ALPHABET.lower()}]{{8}}(?![0-9A-Za-z])")
DAY_HINT = "可以说“明天上午”“下周三”“12月3日”"


def intent_of(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


# DIET sometimes tags a bare "2" (an option number) as an ID, a phone or a time; those are not
# answers, and taking them would throw away the valid value the form already holds.
_MIN_ENTITY_CHARS = {"id_number": 15, "phone": 7, "time": 2, "date": 2}


def entity(tracker: Tracker, name: str) -> str | None:
    shortest = _MIN_ENTITY_CHARS.get(name, 1)
    values = (str(value) for value in tracker.get_latest_entity_values(name) if value)
    return next((value for value in values if len(value) >= shortest), None)


def answer_text(tracker: Tracker, slot: str, interruptions: frozenset[str] = INTERRUPTIONS) -> str | None:
    """The message as the answer to ``slot`` — only when ``slot`` was asked, the message is typed
    text (not a button payload) and it is not a different request."""
    text = str(tracker.latest_message.get("text") or "").strip()
    if tracker.get_slot("requested_slot") != slot or not text or text.startswith("/"):
        return None
    return None if intent_of(tracker) in interruptions else text


def opening_text(tracker: Tracker) -> str | None:
    """The typed message that started the form (nothing has been asked yet), else None. All of
    it is read, so that what a resident said up front (后天、市中心、办护照) is not asked again."""
    text = str(tracker.latest_message.get("text") or "").strip()
    if tracker.get_slot("requested_slot") is not None or not text or text.startswith("/"):
        return None
    return text


def extracted(
    tracker: Tracker, slot: str, *entities: str, interruptions: frozenset[str] = INTERRUPTIONS
) -> dict[str, Any]:
    """``{slot: value}`` from the first of ``entities`` in the message, else from the typed
    answer to ``slot``; empty when the message holds neither."""
    value = next(filter(None, (entity(tracker, name) for name in entities)), None) or answer_text(
        tracker, slot, interruptions
    )
    return {slot: value} if value else {}


# A typed answer that is a name as a whole (王老三、欧阳秀英): the NLU may tag only its surname.
_WHOLE_NAME = re.compile(r"(我叫|我是|名字叫|名字是|姓名[:：]?|叫)?\s*([\u3400-\u9fff·]{2,6})[。.！!]?")


def extracted_name(
    tracker: Tracker, slot: str, interruptions: frozenset[str] = INTERRUPTIONS
) -> dict[str, Any]:
    """The name asked for: the whole typed answer when it is just a name, else the NLU's entity."""
    typed = answer_text(tracker, slot, interruptions)
    whole = _WHOLE_NAME.fullmatch(typed) if typed else None
    if whole is not None:
        return {slot: whole.group(2)}
    return extracted(tracker, slot, "person_name", interruptions=interruptions)


def summary_answer(
    tracker: Tracker, interruptions: frozenset[str] = INTERRUPTIONS, *, cancelling: bool = False
) -> dict[str, Any]:
    """``booking_confirmed`` from the answer to a form's summary (确认/修改/取消); empty when the
    summary was not asked or the message is a question a rule answers, leaving the summary up."""
    if tracker.get_slot("requested_slot") != "booking_confirmed":
        return {}
    answer = confirmation.read(tracker, cancelling=cancelling)
    if answer is confirmation.Answer.unclear and intent_of(tracker) in interruptions:
        return {}
    return {"booking_confirmed": answer.value}


class DayAndTimeExtraction:
    """The day and slot answers, read the same way when booking and when rescheduling.
    The day said in the opening message is kept by action_route_appointment; an exact time
    said there (后天上午十点) is read here."""

    async def extract_booking_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return extracted(tracker, "booking_date", "date")

    async def extract_booking_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        found = extracted(tracker, "booking_time", "time")
        text = opening_text(tracker)
        if not found and text and parse_clock(text) is not None:
            return {"booking_time": text}
        return found


class OrderedFormValidation(FormValidationAction, ABC):
    """Validates this turn's slots in the form's order (service, hall, day, time, …).

    rasa_sdk validates them in the order they were set, and at activation the slots the form
    starts with (a day kept by the router) come before those extracted from the message (the
    hall): the day would be checked against a hall not resolved yet. In the form's order each
    validator sees the slots before it already validated."""

    @abstractmethod
    def name(self) -> str: ...  # abstract, so that the action server does not register this base

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        order = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        pending = {slot: value for slot, value in tracker.slots_to_validate().items() if slot in order}
        result = dict(pending)
        for slot in sorted(pending, key=order.index):
            validate = getattr(self, f"validate_{slot}", None)
            if validate is None:
                continue
            output = validate(pending[slot], dispatcher, tracker, domain)
            if inspect.isawaitable(output):
                output = await output
            result.update(output)
            tracker.slots.update(output)
        return [SlotSet(slot, value) for slot, value in result.items()]


def offered_this_turn(tracker: Tracker, entity_name: str) -> bool:
    """Whether a message since the resident's latest one already offers ``entity_name`` buttons
    (a validator that refused the value said why and what to choose): the form's question
    would only repeat it."""
    prefix = f'/inform{{"{entity_name}"'
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        buttons = (event.get("data") or {}).get("buttons") or [] if event.get("event") == "bot" else []
        if any(str(button.get("payload") or "").startswith(prefix) for button in buttons):
            return True
    return False


def booking_code_in(text: str) -> str | None:
    match = CODE_IN_TEXT.search(text or "")
    return match.group().upper() if match else None


def guide_named_in(text: str) -> Guide | None:
    """The service a sentence names by name, alias or synonym (…去市中心办护照 → 普通护照签发);
    None when it names none — retrieval's best guess is not taken for a booking."""
    try:
        linked = search(text, k=3).linked_guides
    except QueryError:
        return None
    return get_guide(linked[0]) if linked else None


def guide_for(value: str | None) -> Guide | None:
    """A service named by its canonical name, alias or in a short phrase (办社保卡)."""
    if not value:
        return None
    guide = get_guide(value)
    if guide is not None:
        return guide
    try:
        result = search(value, k=3)
    except QueryError:
        return None
    if result.linked_guides:
        return get_guide(result.linked_guides[0])
    if result.confident and result.hits and result.hits[0].kind == "guide":
        return get_guide(result.hits[0].doc_id)
    return None


def hall_directory() -> list[HallName]:
    """Every hall, with the names residents use for it (aliases in knowledge/halls.yaml)."""
    return hall_names(get_services().halls(), load_aliases(get_settings().knowledge.halls_file))


def halls_for(guide: Guide) -> list[HallName]:
    """The halls that offer the service, in the services database's order."""
    names = {hall.name for hall in guide.halls}
    return [hall for hall in hall_directory() if hall.name in names]


def hall_buttons(halls: Sequence[HallName]) -> list[dict[str, str]]:
    return [{"title": hall.name, "payload": f'/inform{{"hall": "{hall.name}"}}'} for hall in halls]


def today() -> dt.date:
    return get_services().context().today


def open_slots(hall_id: str, service_id: str, day: dt.date) -> list[SlotView]:
    return [slot for slot in get_services().free_slots(hall_id, service_id, day) if slot.remaining > 0]


def next_open_days(hall_id: str, service_id: str, after: dt.date, count: int = 3) -> list[dt.date]:
    """The next days (from ``after`` on) with a free slot, within the booking horizon."""
    services = get_services()
    start = max(after, today())
    last = today() + dt.timedelta(days=services.settings.booking_horizon_days)
    days: list[dt.date] = []
    day = start
    while day <= last and len(days) < count:
        try:
            if open_slots(hall_id, service_id, day):
                days.append(day)
        except DomainError:
            pass  # closed, a holiday, or a year whose calendar is not published yet
        day += dt.timedelta(days=1)
    return days


def day_buttons(days: list[dt.date]) -> list[dict[str, str]]:
    return [
        {"title": describe_day(day, today()), "payload": f'/inform{{"date": "{day.isoformat()}"}}'}
        for day in days
    ]


def slot_title(slot: SlotView) -> str:
    return f"{slot.start:%H:%M}-{slot.end:%H:%M}（剩{slot.remaining}个）"


def in_period(slot: SlotView, period: str | None) -> bool:
    if period == "上午":
        return slot.start.hour < 12
    if period == "下午":
        return slot.start.hour >= 12
    return True


def check_day(
    dispatcher: CollectingDispatcher, hall_id: str, service_id: str, day: dt.date
) -> list[SlotView] | None:
    """The day's free slots, or None after telling the resident why the day is out and which
    days are open instead (past, closed, beyond the horizon, or fully booked)."""
    try:
        slots = open_slots(hall_id, service_id, day)
    except DomainError as error:
        reason = error.message
    else:
        if slots:
            return slots
        reason = f"{describe_day(day, today())}的时段已经约满了。"
    others = next_open_days(hall_id, service_id, day + dt.timedelta(days=1))
    if not others:
        others = next_open_days(hall_id, service_id, today())
    if others:
        dispatcher.utter_message(
            text=f"{reason}最近可约的是{describe_day(others[0], today())}，请选择或换一天：",
            buttons=day_buttons(others),
        )
    else:
        dispatcher.utter_message(text=f"{reason}近期没有可约的时段，请换一个大厅或拨打 12345 咨询。")
    return None


def validate_day(
    value: Any,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    hall_id: str | None,
    service_id: str | None,
) -> dict[str, Any]:
    """booking_date from what was said; also picks up 上午/下午 and an exact time said with it."""
    when = parse_when(str(value), today())
    if when.day is None:
        dispatcher.utter_message(text=f"没听明白是哪一天，{DAY_HINT}。")
        return {"booking_date": None}
    result: dict[str, Any] = {"booking_date": when.day.isoformat(), "booking_time": None}
    if when.period:
        result["booking_period"] = when.period
    if hall_id is None or service_id is None:
        return result  # checked once the hall is known
    slots = check_day(dispatcher, hall_id, service_id, when.day)
    if slots is None:
        return {"booking_date": None, "booking_time": None}
    if when.clock is not None:
        result["booking_time"] = pick_slot(dispatcher, slots, when.clock)
    return result


def pick_slot(dispatcher: CollectingDispatcher, slots: list[SlotView], clock: dt.time) -> str | None:
    """The slot containing ``clock`` if it has a seat; otherwise say so (the buttons follow)."""
    for slot in slots:
        if slot.start.time() <= clock < slot.end.time():
            return f"{slot.start:%H:%M}"
    dispatcher.utter_message(text=f"{clock:%H:%M} 没有可约的空位，请从下面的时段中选择。")
    return None


def validate_slot_time(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, hall_id: str, service_id: str
) -> dict[str, Any]:
    """booking_time from a button (09:00) or words (九点半, 下午): only a free slot is accepted."""
    text = str(value)
    day_text = tracker.get_slot("booking_date")
    when = parse_when(text, today())
    if when.day is not None and day_text != when.day.isoformat():
        return validate_day(text, dispatcher, tracker, hall_id, service_id)
    clock = parse_clock(text, when.period)
    if clock is None:
        if when.period:
            return {"booking_time": None, "booking_period": when.period}
        dispatcher.utter_message(text="请选择一个时段，或说具体时间，例如“上午9点半”。")
        return {"booking_time": None}
    if not day_text:
        return {"booking_time": f"{clock:%H:%M}"}
    slots = check_day(dispatcher, hall_id, service_id, dt.date.fromisoformat(day_text))
    if slots is None:
        return {"booking_date": None, "booking_time": None}
    return {"booking_time": pick_slot(dispatcher, slots, clock)}


def slot_start(tracker: Tracker) -> dt.datetime:
    day = dt.date.fromisoformat(str(tracker.get_slot("booking_date")))
    return dt.datetime.combine(day, dt.time.fromisoformat(str(tracker.get_slot("booking_time"))))


def ask_for_slot(dispatcher: CollectingDispatcher, tracker: Tracker, hall_id: str, service_id: str) -> None:
    """Offer the day's free slots as buttons, narrowed to 上午/下午 when the resident said which."""
    day = dt.date.fromisoformat(str(tracker.get_slot("booking_date")))
    slots = check_day(dispatcher, hall_id, service_id, day)
    if slots is None:
        return
    period = tracker.get_slot("booking_period")
    chosen = [slot for slot in slots if in_period(slot, period)] or slots
    note = "" if len(chosen) == len(slots) or not period else f"{period}"
    dispatcher.utter_message(
        text=f"{describe_day(day, today())}{note}还有这些时段可约，请选择：",
        buttons=[
            {"title": slot_title(slot), "payload": f'/inform{{"time": "{slot.start:%H:%M}"}}'}
            for slot in chosen
        ],
    )
