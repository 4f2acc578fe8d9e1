"""What booking, rescheduling and cancelling share: reading the message, days, free slots, buttons."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.backend import get_services
from bot.actions.dates import describe_day, parse_clock, parse_when
from indexer.api import get_guide, search
from indexer.schema import Guide
from indexer.search import QueryError
from services.appointments import SlotView
from services.catalog import HallView
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


def entity(tracker: Tracker, name: str) -> str | None:
    return next((str(value) for value in tracker.get_latest_entity_values(name) if value), None)


def answer_text(tracker: Tracker, slot: str, interruptions: frozenset[str] = INTERRUPTIONS) -> str | None:
    """The message as the answer to ``slot`` — only when ``slot`` was asked, the message is typed
    text (not a button payload) and it is not a different request."""
    text = str(tracker.latest_message.get("text") or "").strip()
    if tracker.get_slot("requested_slot") != slot or not text or text.startswith("/"):
        return None
    return None if intent_of(tracker) in interruptions else text


def extracted(
    tracker: Tracker, slot: str, *entities: str, interruptions: frozenset[str] = INTERRUPTIONS
) -> dict[str, Any]:
    """``{slot: value}`` from the first of ``entities`` in the message, else from the typed
    answer to ``slot``; empty when the message holds neither."""
    value = next(filter(None, (entity(tracker, name) for name in entities)), None) or answer_text(
        tracker, slot, interruptions
    )
    return {slot: value} if value else {}


class DayAndTimeExtraction:
    """The day and slot answers, read the same way when booking and when rescheduling."""

    async def extract_booking_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return extracted(tracker, "booking_date", "date")

    async def extract_booking_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return extracted(tracker, "booking_time", "time")


def booking_code_in(text: str) -> str | None:
    match = CODE_IN_TEXT.search(text or "")
    return match.group().upper() if match else None


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


def halls_for(guide: Guide) -> list[HallView]:
    """The halls that offer the service, in the services database's order."""
    names = {hall.name for hall in guide.halls}
    return [hall for hall in get_services().halls() if hall.name in names]


def match_hall(text: str, halls: list[HallView]) -> HallView | None:
    """A hall by id, name, district, or the district's short name (汇川, 新蒲, 道真)."""
    for hall in halls:
        short = re.sub(r"(仡佬族苗族自治县|新区|区|县|市)$", "", hall.district)
        if text in (hall.id, hall.name) or hall.name in text or hall.district in text:
            return hall
        if len(short) >= 2 and short in text:
            return hall
    return None


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
        dispatcher.utter_message(text="请点选一个时段，或说具体时间，例如“上午9点半”。")
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
