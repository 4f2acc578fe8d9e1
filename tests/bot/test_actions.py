"""Custom actions with the real indexer and a fresh SQLite services database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions import backend
from bot.actions.handoff import ActionOpenHandoff
from bot.actions.policy import ActionAnswerPolicy
from bot.actions.rating import ActionOfferRating, ActionRecordFeedback, score_in
from bot.actions.service_question import ActionAnswerServiceQuestion
from bot.actions.status import ActionCheckApplicationStatus
from core.settings import ServicesSettings, get_settings
from services.applications import ApplicationRequest
from services.catalog import load_catalog
from services.facade import Services
from services.models import Rating

pytestmark = pytest.mark.slow


def tracker(
    text: str,
    intent: str,
    *,
    entities: list[dict] | None = None,
    slots: dict | None = None,
    events: list[dict] | None = None,
) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    return Tracker("web:test", slots or {}, latest, events or [], False, None, {}, "action_listen")


async def run(action: Any, track: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, {})
    return dispatcher.messages, events


def text_of(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    base = get_settings()
    settings = base.model_copy(
        update={
            "services": ServicesSettings(
                **{**base.services.model_dump(), "database_url": f"sqlite:///{tmp_path / 's.db'}"}
            )
        }
    )
    facade = Services.from_settings(settings)
    facade.sync_catalog(load_catalog(settings.knowledge.guides_dir, settings.knowledge.halls_file))
    previous, backend._services = backend._services, facade
    yield facade
    backend._services = previous


async def test_fee_answer_cites_the_guide_and_remembers_it() -> None:
    entities = [{"entity": "service", "value": "城乡居民基本医疗保险参保缴费"}]
    messages, events = await run(
        ActionAnswerServiceQuestion(), tracker("新农合交好多钱", "ask_fee", entities=entities)
    )
    text = text_of(messages)
    assert "收费标准" in text and "来源：《城乡居民基本医疗保险参保缴费》" in text and "示例数据" in text
    assert SlotSet("service", "城乡居民基本医疗保险参保缴费") in events
    card = next(m["custom"] for m in messages if m.get("custom"))
    assert card["type"] == "guide_card" and card["sources"][0]["updated"]


async def test_follow_up_without_a_service_uses_the_remembered_one() -> None:
    slots = {"service": "高龄补贴申领"}
    messages, _ = await run(ActionAnswerServiceQuestion(), tracker("那在哪点办", "ask_location", slots=slots))
    assert "「高龄补贴申领」在哪办" in text_of(messages)


async def test_a_newly_named_service_replaces_the_remembered_one() -> None:
    slots = {"service": "高龄补贴申领"}
    messages, events = await run(
        ActionAnswerServiceQuestion(), tracker("那残疾证要带哪些材料", "ask_materials", slots=slots)
    )
    assert "「残疾人证办理」需要准备" in text_of(messages)
    assert SlotSet("service", "残疾人证办理") in events


async def test_materials_are_numbered_with_form_and_marks() -> None:
    messages, _ = await run(ActionAnswerServiceQuestion(), tracker("高龄补贴要带啥子", "ask_materials"))
    text = text_of(messages)
    assert "1. 《遵义市高龄补贴申请审批表》" in text and "原件和复印件" in text and "可用电子证照" in text
    # 高龄补贴's situations differ in what to bring: the general list, then 您是哪种情况 buttons.
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert "老人刚满80周岁，首次申请" in titles and titles[-2:] == ["预约办理", "我符合条件吗"]
    assert "请选择您的情况" in text


async def test_unrelated_question_is_not_answered_with_a_guide() -> None:
    messages, events = await run(ActionAnswerServiceQuestion(), tracker("明天会下雨不", "ask_process"))
    # Weather is no government service: refused, with the hotline, and no guide cited or remembered.
    assert "不属于政务服务" in text_of(messages) and "12345" in text_of(messages)
    assert "来源" not in text_of(messages)
    assert events == []


async def test_policy_answer_quotes_the_item() -> None:
    messages, _ = await run(ActionAnswerPolicy(), tracker("啥子叫容缺受理", "ask_policy"))
    text = text_of(messages)
    assert "第9条" in text and "容缺受理" in text and "遵府办发〔2017〕39号" in text


async def test_status_needs_the_matching_proof(services: Services) -> None:
    application = services.submit_application(
        ApplicationRequest(
            service_id="gaoling_butie",
            applicant_name="王德明",
            id_number="520302194503010024",
            phone="15885211234",
            channel="window",
            hall_id="city",
        ),
        handler="窗口",
    )
    wrong, _ = await run(
        ActionCheckApplicationStatus(),
        tracker(
            "111111", "inform", slots={"application_number": application.number, "status_proof": "111111"}
        ),
    )
    assert "没有查到" in text_of(wrong) and "高龄补贴" not in text_of(wrong)
    right, events = await run(
        ActionCheckApplicationStatus(),
        tracker(
            "15885211234",
            "inform",
            slots={"application_number": application.number, "status_proof": "15885211234"},
        ),
    )
    assert application.number in text_of(right) and "高龄补贴申领" in text_of(right)
    assert SlotSet("status_proof", None) in events


async def test_handoff_opens_a_ticket_with_the_transcript(services: Services) -> None:
    events = [{"event": "user", "text": "低保咋个办"}, {"event": "bot", "text": "……"}]
    messages, _ = await run(ActionOpenHandoff(), tracker("转人工", "request_human", events=events))
    assert "工单号" in text_of(messages)
    (waiting,) = services.waiting_handoffs()
    assert [line.text for line in waiting.transcript][:1] == ["低保咋个办"]


@pytest.mark.parametrize(
    "text, score", [("5分", 5), ("给个四星", 4), ("3", 3), ("很好", None), ("10分", None)]
)
def test_rating_scores_are_read_from_text(text: str, score: int | None) -> None:
    assert score_in(text) == score


async def test_rating_is_offered_once_per_answered_guide() -> None:
    answered = tracker("谢谢", "thank", slots={"last_guide": "gaoling_butie"})
    messages, events = await run(ActionOfferRating(), answered)
    assert "打个分" in text_of(messages)
    assert [b["title"] for b in messages[0]["buttons"]] == ["5分", "4分", "3分", "2分", "1分"]
    assert SlotSet("rating_offered_for", "gaoling_butie") in events

    again = tracker(
        "谢谢", "thank", slots={"last_guide": "gaoling_butie", "rating_offered_for": "gaoling_butie"}
    )
    assert await run(ActionOfferRating(), again) == ([], [])
    assert await run(ActionOfferRating(), tracker("谢谢", "thank")) == ([], [])


async def test_a_tapped_rating_is_recorded_against_the_answered_guide(services: Services) -> None:
    tap = tracker(
        '/feedback{"score": "2"}',
        "feedback",
        entities=[{"entity": "score", "value": "2"}],
        slots={"last_guide": "gaoling_butie"},
    )
    messages, _ = await run(ActionRecordFeedback(), tap)
    assert "2分" in text_of(messages) and "转人工" in text_of(messages)
    with services.unit() as (session, _ctx):
        stored = session.scalars(select(Rating)).one()
    assert (stored.score, stored.guide_id, stored.comment) == (2, "gaoling_butie", None)


async def test_a_rating_is_recorded_for_the_answer_it_rates(services: Services) -> None:
    """Not for the rating message itself: for the latest earlier message answered with a card."""
    events = [
        {"event": "user", "text": "高龄补贴要带哪些材料", "message_id": "t-answer"},
        {
            "event": "bot",
            "text": "……",
            "data": {"custom": {"type": "guide_card", "guide_id": "gaoling_butie"}},
        },
        {"event": "user", "text": "谢谢", "message_id": "t-thanks"},
        {"event": "bot", "text": "刚才的解答对您有帮助吗？", "data": {}},
        {"event": "user", "text": "5分", "message_id": "t-rating"},
    ]
    rating = tracker("5分", "feedback", slots={"last_guide": "gaoling_butie"}, events=events)
    rating.latest_message["message_id"] = "t-rating"
    await run(ActionRecordFeedback(), rating)
    with services.unit() as (session, _ctx):
        stored = session.scalars(select(Rating)).one()
    assert (stored.turn_id, stored.score) == ("t-answer", 5)
