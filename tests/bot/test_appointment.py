"""Booking, rescheduling and cancelling actions on a fresh SQLite database, with a fixed clock.

Thursday 26 November 2026, 08:00: tomorrow is a working Friday, the weekend is closed and the
booking horizon (14 days) ends on 10 December. A few tests start on the Wednesday before, when
后天 is that Friday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import backend
from bot.actions.appointment.booking import (
    ActionAskBookingConfirmed,
    ActionAskBookingDate,
    ActionAskBookingHall,
    ActionAskBookingTime,
    ValidateBookingForm,
)
from bot.actions.appointment.changes import (
    ActionCancelBooking,
    ActionReportBooking,
    ActionRouteAppointment,
    ValidateCancelBookingForm,
    ValidateRescheduleBookingForm,
)
from core.settings import PROJECT_ROOT, ServicesSettings, get_settings
from services.appointments import BookingRequest
from services.catalog import load_catalog
from services.db import make_engine, make_sessionmaker, migrate
from services.facade import Services
from services.identity import id_check_char

pytestmark = pytest.mark.slow

NOW = dt.datetime(2026, 11, 26, 8, 0)
WEDNESDAY = dt.datetime(2026, 11, 25, 8, 0)
DIBAO = "最低生活保障申请"
PASSPORT = "普通护照签发"
DIBAO_ID = "zuidi_shenghuo_baozhang_shenqing"
ID_NUMBER = "520302194503010024"
PHONE = "15885211234"
DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


REQUIRED: list[str] = DOMAIN["forms"]["booking_form"]["required_slots"]


def _services_at(tmp_path: Path, now: dt.datetime) -> Iterator[Services]:
    config = ServicesSettings(
        **{**get_settings().services.model_dump(), "database_url": f"sqlite:///{tmp_path / 's.db'}"}
    )
    migrate(config.database_url)
    facade = Services(make_sessionmaker(make_engine(config.database_url)), config, clock=lambda: now)
    knowledge = get_settings().knowledge
    facade.sync_catalog(load_catalog(knowledge.guides_dir, knowledge.halls_file))
    previous, backend._services = backend._services, facade
    yield facade
    backend._services = previous


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    yield from _services_at(tmp_path, NOW)


@pytest.fixture
def services_on_wednesday(tmp_path: Path) -> Iterator[Services]:
    yield from _services_at(tmp_path, WEDNESDAY)


def tracker(
    text: str,
    intent: str = "inform",
    *,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    form: str | None = "booking_form",
    earlier: list[dict[str, Any]] | None = None,
    mapped: dict[str, Any] | None = None,
    replies: list[dict[str, Any]] | None = None,
) -> Tracker:
    """``mapped``: slots Rasa's own mappings set from this message (the shared service slot);
    ``replies``: what the bot already said this turn (the validator's messages)."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    events = [*(earlier or []), {"event": "user", "text": text, "parse_data": latest}]
    events += [{"event": "slot", "name": name, "value": value} for name, value in (mapped or {}).items()]
    events += [
        {"event": "bot", "text": m.get("text"), "data": {"buttons": m.get("buttons")}} for m in replies or []
    ]
    loop = {"name": form, "is_interrupted": False} if form else {}
    return Tracker("web:test", dict(slots or {}), latest, events, False, None, loop, "action_listen")


async def run(action: Action, track: Tracker) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """(all text said, the messages, the slots set)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, DOMAIN)
    text = "\n".join(m.get("text") or "" for m in dispatcher.messages)
    return text, dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def chosen(**slots: Any) -> dict[str, Any]:
    return {"service": DIBAO, "booking_hall": "city", **slots}


def held(services: Services, kind: str, value: str) -> dict[str, str]:
    """A slot value as the validators leave it: the mask and a reference to the held number."""
    hold = services.hold_personal("web:test", kind, value)
    return {"masked": hold.masked, "ref": hold.reference}


async def test_a_closed_day_is_refused_with_the_next_open_day(services: Services) -> None:
    text, messages, slots = await run(
        ValidateBookingForm(), tracker("后天", slots=chosen(requested_slot="booking_date"))
    )
    assert slots["booking_date"] is None
    assert "11月28日（星期六）是休息日" in text and "最近可约的是11月30日（星期一）" in text
    assert messages[-1]["buttons"][0]["payload"] == '/inform{"date": "2026-11-30"}'


@pytest.mark.parametrize(
    ("said", "reason"),
    [("11月20日", "已经过去"), ("12月25日", "最多可预约14天内"), ("下下周五", "最多可预约14天内")],
)
async def test_past_and_far_days_are_refused(services: Services, said: str, reason: str) -> None:
    text, _, slots = await run(
        ValidateBookingForm(), tracker(said, slots=chosen(requested_slot="booking_date"))
    )
    assert slots["booking_date"] is None and reason in text


async def test_tomorrow_morning_keeps_the_period_and_an_exact_time(services: Services) -> None:
    _, _, slots = await run(
        ValidateBookingForm(), tracker("明天上午十点", slots=chosen(requested_slot="booking_date"))
    )
    assert slots["booking_date"] == "2026-11-27"
    assert slots["booking_period"] == "上午" and slots["booking_time"] == "10:00"


async def test_free_slots_are_offered_as_buttons_for_the_period(services: Services) -> None:
    slots = chosen(booking_date="2026-11-27", booking_period="下午", requested_slot="booking_time")
    text, messages, _ = await run(ActionAskBookingTime(), tracker("", slots=slots))
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles[0] == "13:30-14:00（剩4个）" and len(titles) == 7
    assert messages[0]["buttons"][0]["payload"] == '/inform{"time": "13:30"}'
    assert "明天 11月27日（星期五）下午" in text


async def test_a_district_picks_the_hall_offering_the_service(services: Services) -> None:
    _, _, slots = await run(
        ValidateBookingForm(),
        tracker("播州那边", slots={"service": DIBAO, "requested_slot": "booking_hall"}),
    )
    assert slots["booking_hall"] == "bozhou"
    text, _, slots = await run(
        ValidateBookingForm(),
        tracker("湄潭", slots={"service": DIBAO, "requested_slot": "booking_hall"}),
    )
    assert slots["booking_hall"] is None and "遵义市政务服务中心" in text


async def test_a_wrong_id_number_is_explained_and_asked_again(services: Services) -> None:
    text, _, slots = await run(
        ValidateBookingForm(),
        tracker("520302194503010025", slots=chosen(requested_slot="booking_id_number")),
    )
    assert slots["booking_id_number"] is None and "校验位" in text and "请重新输入身份证号" in text
    _, _, slots = await run(
        ValidateBookingForm(),
        tracker(
            ID_NUMBER,
            entities=[{"entity": "id_number", "value": ID_NUMBER}],
            slots=chosen(requested_slot="booking_id_number"),
        ),
    )
    assert slots["booking_id_number"]["masked"] == "520302********0024"


async def test_a_question_mid_form_is_not_taken_as_an_answer(services: Services) -> None:
    _, _, slots = await run(
        ValidateBookingForm(),
        tracker("要带哪些材料", "ask_materials", slots=chosen(requested_slot="booking_name")),
    )
    assert "booking_name" not in slots  # nothing extracted: the form rejects and a rule answers


async def test_changing_the_service_resets_a_hall_that_does_not_offer_it(services: Services) -> None:
    earlier = [{"event": "slot", "name": "service", "value": DIBAO}]
    slots = chosen(service="结婚登记", booking_hall="tongzi", booking_date="2026-11-27", booking_time="09:00")
    text, _, events = await run(
        ValidateBookingForm(),
        tracker(
            "我要办结婚登记",
            entities=[{"entity": "service", "value": "结婚登记"}],
            slots={**slots, "requested_slot": "booking_name"},
            earlier=earlier,
            mapped={"service": "结婚登记"},
        ),
    )
    assert events["service"] == "结婚登记" and events["booking_time"] is None
    assert events["booking_hall"] is None and "改为预约「结婚登记」" in text


async def test_the_summary_masks_id_and_phone(services: Services) -> None:
    slots = chosen(
        booking_date="2026-11-27",
        booking_time="09:00",
        booking_name="王德明",
        booking_id_number=held(services, "id_number", ID_NUMBER),
        booking_phone=held(services, "phone", PHONE),
    )
    text, messages, _ = await run(ActionAskBookingConfirmed(), tracker("", slots=slots))
    assert ID_NUMBER not in text and PHONE not in text
    assert "520302********0024" in text and "158****1234" in text and "09:00" in text
    assert [b["title"] for b in messages[0]["buttons"]] == ["确认", "修改", "取消"]


def ready(services: Services, **slots: Any) -> dict[str, Any]:
    return chosen(
        **{
            "booking_date": "2026-11-27",
            "booking_time": "09:00",
            "booking_name": "王德明",
            "booking_id_number": held(services, "id_number", ID_NUMBER),
            "booking_phone": held(services, "phone", PHONE),
            "requested_slot": "booking_confirmed",
            **slots,
        }
    )


async def test_confirming_books_and_reports_the_code(services: Services) -> None:
    _, _, slots = await run(ValidateBookingForm(), tracker("/affirm", "affirm", slots=ready(services)))
    code = slots["booking_code"]
    assert slots["booking_confirmed"] == "yes" and code
    text, messages, cleared = await run(
        ActionReportBooking(),
        tracker("", slots=ready(services, booking_code=code, booking_confirmed="yes"), form=None),
    )
    assert f"预约码：{code}" in text and "遵义市政务服务中心" in text and "09:00-09:30" in text
    assert PHONE not in text and ID_NUMBER not in text and "取消预约" in text
    assert messages[0]["custom"]["type"] == "booking" and messages[0]["buttons"][0]["title"] == "查看材料"
    assert cleared["booking_id_number"] is None and cleared["booking_code"] is None
    assert services.booking(code).start == dt.datetime(2026, 11, 27, 9, 0)


async def test_a_slot_taken_before_confirming_is_offered_again(services: Services) -> None:
    others = [f"11010119900307{n:03d}" for n in range(4)]
    for index, other in enumerate(other + id_check_char(other) for other in others):
        services.book(
            BookingRequest(
                hall_id="city",
                service_id=DIBAO_ID,
                start=dt.datetime(2026, 11, 27, 9, 0),
                name="李四",
                id_number=other,
                phone=f"1390000000{index}",
                sender_id=f"web:other{index}",
            )
        )
    text, _, slots = await run(ValidateBookingForm(), tracker("确认", "affirm", slots=ready(services)))
    assert "约满" in text and slots["booking_time"] is None and slots["booking_confirmed"] is None


async def test_modify_asks_which_part_and_clears_it(services: Services) -> None:
    _, _, slots = await run(ValidateBookingForm(), tracker("修改", "inform", slots=ready(services)))
    assert slots["booking_editing"] is True and slots["booking_confirmed"] is None
    _, _, slots = await run(
        ValidateBookingForm(), tracker("修改时间", "book_appointment", slots=ready(services))
    )
    assert (
        slots["booking_date"] is None and slots["booking_time"] is None and slots["booking_editing"] is None
    )


@pytest.mark.parametrize(
    ("text", "intent", "task", "code"),
    [
        ("帮我约明天去办低保", "book_appointment", "book", None),
        ("改到下周", "book_appointment", "reschedule", None),
        ("原来约的时间去不了，换个时间", "cancel_appointment", "reschedule", None),
        ("预约码7KQ4MZ2A 取消", "cancel_appointment", "cancel", "7KQ4MZ2A"),
    ],
)
async def test_requests_are_routed_by_their_words(
    services: Services, text: str, intent: str, task: str, code: str | None
) -> None:
    _, _, slots = await run(ActionRouteAppointment(), tracker(text, intent, form=None))
    assert slots["appointment_task"] == task and slots.get("booking_code") == code


async def test_a_day_said_with_the_request_is_kept(services: Services) -> None:
    _, _, slots = await run(
        ActionRouteAppointment(), tracker("帮我约明天上午去办低保", "book_appointment", form=None)
    )
    assert slots["booking_date"] == "2026-11-27" and slots["booking_period"] == "上午"
    _, _, slots = await run(
        ValidateBookingForm(),
        tracker(
            '/inform{"hall": "遵义市政务服务中心"}',
            entities=[{"entity": "hall", "value": "遵义市政务服务中心"}],
            slots={"service": DIBAO, "booking_date": "2026-11-28", "requested_slot": "booking_hall"},
        ),
    )
    assert slots["booking_hall"] == "city" and slots["booking_date"] is None  # a Saturday


async def open_booking(
    text: str, entities: list[dict[str, Any]] | None = None, remembered: str | None = None
) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """What Rasa does with a booking request: the router, then the form's activation, which
    validates the slots the form starts with (mapped from entities or set by the router)
    after the slots the validation action extracts itself. Returns what was said, the
    messages and every slot afterwards."""
    entities = entities or []
    earlier = [{"event": "slot", "name": "service", "value": remembered}] if remembered else []
    _, _, routed = await run(
        ActionRouteAppointment(), tracker(text, "book_appointment", entities=entities, form=None)
    )
    known = {"service": remembered, **{name: value for name, value in routed.items() if value is not None}}
    named = next((e["value"] for e in entities if e["entity"] == "service"), None)
    if named:
        known["service"] = named  # the service slot's own from_entity mapping
    prefilled = {name: value for name, value in known.items() if name in REQUIRED and value is not None}
    said, messages, validated = await run(
        ValidateBookingForm(),
        tracker(text, "book_appointment", slots=known, entities=entities, earlier=earlier, mapped=prefilled),
    )
    return said, messages, known | validated


def next_question(slots: dict[str, Any]) -> str | None:
    return next((name for name in REQUIRED if slots.get(name) is None), None)


OPENING = "我想预约后天去市政务服务中心办护照"


@pytest.mark.parametrize(
    ("entities", "remembered"),
    [
        ([], None),  # the NLU found nothing: the words alone are enough
        (
            [
                {"entity": "date", "value": "后天"},
                {"entity": "hall", "value": "遵义市政务服务中心"},
                {"entity": "service", "value": PASSPORT},
            ],
            None,
        ),
        ([], DIBAO),  # the service talked about before gives way to the one this message names
    ],
)
async def test_the_opening_message_fills_service_hall_and_day(
    services_on_wednesday: Services, entities: list[dict[str, Any]], remembered: str | None
) -> None:
    said, _, slots = await open_booking(OPENING, entities, remembered)
    assert said == ""  # nothing refused, nothing asked twice
    assert slots["service"] == PASSPORT and slots["booking_hall"] == "city"
    assert slots["booking_date"] == "2026-11-27"
    assert next_question(slots) == "booking_time"
    text, messages, _ = await run(
        ActionAskBookingTime(), tracker("", slots={**slots, "requested_slot": "booking_time"})
    )
    assert text == "后天 11月27日（星期五）还有这些时段可约，请选择："
    assert messages[0]["buttons"][0]["payload"] == '/inform{"time": "09:00"}'


async def test_a_closed_day_said_up_front_is_answered_and_not_asked_again(services: Services) -> None:
    said, messages, slots = await open_booking(OPENING)  # on Thursday, 后天 is a Saturday
    assert slots["service"] == PASSPORT and slots["booking_hall"] == "city"
    assert slots["booking_date"] is None and "没有找到" not in said
    assert "11月28日（星期六）是休息日" in said and "最近可约的是11月30日（星期一）" in said
    assert messages[-1]["buttons"][0]["payload"] == '/inform{"date": "2026-11-30"}'
    question, _, _ = await run(
        ActionAskBookingDate(),
        tracker(
            OPENING, "book_appointment", slots={**slots, "requested_slot": "booking_date"}, replies=messages
        ),
    )
    assert question == ""  # the refusal already offered the open days


async def test_a_partly_named_hall_and_the_time_of_day_up_front(services: Services) -> None:
    said, _, slots = await open_booking("帮我约明天下午去红花岗那个大厅办低保")
    assert said == "" and slots["service"] == DIBAO and slots["booking_hall"] == "honghuagang"
    assert slots["booking_date"] == "2026-11-27" and slots["booking_period"] == "下午"
    text, messages, _ = await run(
        ActionAskBookingTime(), tracker("", slots={**slots, "requested_slot": "booking_time"})
    )
    assert "下午还有这些时段可约" in text and messages[0]["buttons"][0]["title"].startswith("13:30")


async def test_an_exact_time_up_front_picks_the_slot(services: Services) -> None:
    _, _, slots = await open_booking("明天上午十点去汇川的政务大厅办护照，帮我约一下")
    assert slots["booking_hall"] == "huichuan" and slots["booking_date"] == "2026-11-27"
    assert slots["booking_time"] == "10:00" and next_question(slots) == "booking_name"


async def test_two_halls_at_once_are_asked_back_with_buttons(services: Services) -> None:
    asked = {"service": PASSPORT, "requested_slot": "booking_hall"}
    said, messages, slots = await run(ValidateBookingForm(), tracker("汇川还是红花岗哦", slots=asked))
    assert slots["booking_hall"] is None and "可能是汇川区政务服务中心或红花岗区政务服务中心" in said
    assert [b["title"] for b in messages[0]["buttons"]] == ["汇川区政务服务中心", "红花岗区政务服务中心"]
    question, _, _ = await run(
        ActionAskBookingHall(), tracker("汇川还是红花岗哦", slots={**asked, **slots}, replies=messages)
    )
    assert question == ""


async def test_an_unknown_hall_lists_the_halls_to_choose_from(services: Services) -> None:
    asked = {"service": PASSPORT, "requested_slot": "booking_hall"}
    said, messages, slots = await run(ValidateBookingForm(), tracker("火车站旁边那个", slots=asked))
    assert slots["booking_hall"] is None
    assert said.startswith("没有找到您说的“火车站旁边那个”这个政务服务大厅。")
    assert "可以预约办理「普通护照签发」的大厅有：" in said
    assert [b["title"] for b in messages[0]["buttons"]] == [
        "遵义市政务服务中心",
        "红花岗区政务服务中心",
        "汇川区政务服务中心",
        "仁怀市政务服务中心",
    ]


def _book(services: Services) -> str:
    return services.book(
        BookingRequest(
            hall_id="city",
            service_id=DIBAO_ID,
            start=dt.datetime(2026, 11, 27, 9, 0),
            name="王德明",
            id_number=ID_NUMBER,
            phone=PHONE,
            sender_id="web:test",
        )
    ).code


async def test_cancel_needs_the_matching_phone_and_a_yes(services: Services) -> None:
    code = _book(services)
    confirmed = {"booking_confirmed": "yes"}
    wrong, _, _ = await run(
        ActionCancelBooking(),
        tracker(
            "",
            slots={
                "booking_code": code,
                "booking_phone": held(services, "phone", "13900000000"),
                **confirmed,
            },
            form=None,
        ),
    )
    phone = held(services, "phone", PHONE)
    unknown, _, _ = await run(
        ActionCancelBooking(),
        tracker("", slots={"booking_code": "ZZZZ2222", "booking_phone": phone, **confirmed}, form=None),
    )
    assert wrong == unknown == "预约码或手机号不正确，请核对后再试。"
    kept, _, _ = await run(
        ActionCancelBooking(), tracker("", slots={"booking_code": code, "booking_phone": phone}, form=None)
    )
    assert "没有取消" in kept and services.booking(code).status.value == "booked"
    text, _, _ = await run(
        ActionCancelBooking(),
        tracker(
            "",
            slots={"booking_code": code, "booking_phone": held(services, "phone", PHONE), **confirmed},
            form=None,
        ),
    )
    assert f"已取消预约 {code}" in text and services.booking(code).status.value == "cancelled"


async def test_the_cancel_form_reads_a_code_typed_in_a_sentence(services: Services) -> None:
    _, _, slots = await run(
        ValidateCancelBookingForm(),
        tracker(
            "我的码是 k2z7rb5d",
            "cancel_appointment",
            slots={"requested_slot": "booking_code"},
            form="cancel_booking_form",
        ),
    )
    assert slots["booking_code"] == "K2Z7RB5D"


async def test_reschedule_checks_code_and_phone_then_moves_the_booking(services: Services) -> None:
    code = _book(services)
    form = "reschedule_booking_form"
    text, _, slots = await run(
        ValidateRescheduleBookingForm(),
        tracker("13900000000", slots={"booking_code": code, "requested_slot": "booking_phone"}, form=form),
    )
    assert text == "预约码或手机号不正确，请核对后再试。" and slots["booking_code"] is None
    text, _, slots = await run(
        ValidateRescheduleBookingForm(),
        tracker(
            PHONE,
            slots={"booking_code": code, "booking_date": "2026-11-29", "requested_slot": "booking_phone"},
            form=form,
        ),
    )
    assert slots["booking_hall"] == "city" and slots["service"] == DIBAO and "找到您的预约" in text
    assert slots["booking_date"] is None and "是休息日" in text  # 改到礼拜天: closed
    assert slots["booking_phone"]["masked"] == "158****1234"
    known = {
        "booking_code": code,
        "booking_phone": slots["booking_phone"],
        "booking_hall": "city",
        "service": DIBAO,
    }
    _, _, slots = await run(
        ValidateRescheduleBookingForm(),
        tracker("下周一下午", slots={**known, "requested_slot": "booking_date"}, form=form),
    )
    assert slots["booking_date"] == "2026-11-30" and slots["booking_period"] == "下午"
    _, _, slots = await run(
        ValidateRescheduleBookingForm(),
        tracker(
            '/inform{"time": "14:00"}',
            entities=[{"entity": "time", "value": "14:00"}],
            slots={**known, "booking_date": "2026-11-30", "requested_slot": "booking_time"},
            form=form,
        ),
    )
    assert slots["booking_time"] == "14:00"
    assert services.booking(code).start != dt.datetime(2026, 11, 30, 14, 0)  # asked first
    chosen = {**known, "booking_date": "2026-11-30", "booking_time": "14:00"}
    for said in ("2", "好多钱"):
        _, _, slots = await run(
            ValidateRescheduleBookingForm(),
            tracker(said, slots={**chosen, "requested_slot": "booking_confirmed"}, form=form),
        )
        assert slots["booking_confirmed"] is None
    assert services.booking(code).start != dt.datetime(2026, 11, 30, 14, 0)
    _, _, slots = await run(
        ValidateRescheduleBookingForm(),
        tracker("确认", slots={**chosen, "requested_slot": "booking_confirmed"}, form=form),
    )
    assert slots["booking_confirmed"] == "yes"
    assert services.booking(code).start == dt.datetime(2026, 11, 30, 14, 0)


@pytest.mark.parametrize(
    "said, kept",
    [
        ("好的", None),
        ("要得", None),
        ("好 申请", None),
        ("我叫李秀英", "李秀英"),
        ("姓名：阿依古丽·买买提", "阿依古丽·买买提"),
    ],
)
def test_a_reply_word_is_not_taken_for_the_name(said: str, kept: str | None) -> None:
    dispatcher = CollectingDispatcher()
    result = ValidateBookingForm().validate_booking_name(said, dispatcher, tracker(said), {})
    assert result == {"booking_name": kept}
    assert bool(dispatcher.messages) == (kept is None)


@pytest.mark.parametrize("entity", ["time", "date", "id_number", "phone"])
async def test_a_bare_number_tagged_as_an_entity_changes_nothing_at_the_summary(
    services: Services, entity: str
) -> None:
    """On WeChat "2" is an option number; DIET has tagged it as a time, an ID …: nothing the form
    holds is replaced and nothing is booked."""
    _, _, slots = await run(
        ValidateBookingForm(),
        tracker("2", entities=[{"entity": entity, "value": "2"}], slots=ready(services)),
    )
    assert all(slots.get(slot, "kept") == "kept" for slot in ("booking_time", "booking_date"))
    assert slots.get("booking_id_number", "kept") == "kept" and slots.get("booking_phone", "kept") == "kept"
    assert slots["booking_confirmed"] is None and slots.get("booking_code") is None


# Personal numbers: the slots keep a mask and a reference, the number is held server-side.


async def test_the_form_keeps_masks_and_books_with_the_held_numbers(services: Services) -> None:
    _, _, id_slot = await run(
        ValidateBookingForm(),
        tracker(ID_NUMBER, slots=chosen(requested_slot="booking_id_number")),
    )
    _, _, phone_slot = await run(
        ValidateBookingForm(),
        tracker(
            PHONE,
            entities=[{"entity": "phone", "value": PHONE}],
            slots=chosen(requested_slot="booking_phone"),
        ),
    )
    slots = {**id_slot, **phone_slot}  # what the action server sends Rasa to keep
    assert ID_NUMBER not in str(slots) and PHONE not in str(slots)
    assert slots["booking_id_number"]["masked"] == "520302********0024"
    assert slots["booking_phone"]["masked"] == "158****1234"
    confirm = {**ready(services), **slots}
    _, _, booked = await run(ValidateBookingForm(), tracker("确认", "affirm", slots=confirm))
    code = booked["booking_code"]
    assert code and services.booking(code).phone_masked == "158****1234"
    # The booking holds the real phone: cancelling with it works.
    assert services.cancel(code, PHONE, actor="web:test").status.value == "cancelled"


async def test_the_numbers_are_forgotten_once_the_booking_is_reported(services: Services) -> None:
    slots = ready(services)
    _, _, booked = await run(ValidateBookingForm(), tracker("确认", "affirm", slots=slots))
    await run(
        ActionReportBooking(),
        tracker(
            "", slots={**slots, "booking_code": booked["booking_code"], "booking_confirmed": "yes"}, form=None
        ),
    )
    for slot in ("booking_id_number", "booking_phone"):
        assert services.reveal_personal("web:test", slots[slot]["ref"]) is None


def _held_earlier(services: Services, minutes: int, kind: str, value: str) -> dict[str, str]:
    """A value held ``minutes`` before now, by another process on the same database."""
    url = services.settings.database_url
    then = Services(
        make_sessionmaker(make_engine(url)),
        services.settings,
        clock=lambda: NOW - dt.timedelta(minutes=minutes),
    )
    hold = then.hold_personal("web:test", kind, value)
    return {"masked": hold.masked, "ref": hold.reference}


async def test_an_expired_number_is_asked_again_before_booking(services: Services) -> None:
    slots = ready(services, booking_phone=_held_earlier(services, 31, "phone", PHONE))
    text, _, result = await run(ValidateBookingForm(), tracker("确认", "affirm", slots=slots))
    assert "手机号只保留30分钟，已经清除" in text and "身份证号" not in text
    assert result["booking_phone"] is None and result["booking_confirmed"] is None
    assert "booking_code" not in result and "booking_id_number" not in result


async def test_a_reference_from_another_conversation_reveals_nothing(services: Services) -> None:
    theirs = services.hold_personal("web:someone-else", "id_number", ID_NUMBER)
    slots = ready(services, booking_id_number={"masked": theirs.masked, "ref": theirs.reference})
    text, _, result = await run(ValidateBookingForm(), tracker("确认", "affirm", slots=slots))
    assert "身份证号只保留30分钟" in text and result["booking_id_number"] is None
    assert "booking_code" not in result


async def test_cancelling_with_an_expired_phone_cancels_nothing(services: Services) -> None:
    code = _book(services)
    slots = {"booking_code": code, "booking_phone": _held_earlier(services, 45, "phone", PHONE)}
    text, _, _ = await run(
        ActionCancelBooking(), tracker("", slots={**slots, "booking_confirmed": "yes"}, form=None)
    )
    assert "预约没有取消" in text and services.booking(code).status.value == "booked"
