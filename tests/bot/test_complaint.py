"""Complaints and handoffs ask before they act: the consent question, the complaint form and its
summary, on a fresh SQLite services database. Only 提交 files; a ticket is counted in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions import backend
from bot.actions.complaint import (
    SKIPPED,
    ActionAskComplaintConfirm,
    ActionAskComplaintContent,
    ActionStartComplaint,
    ActionSubmitComplaint,
    ValidateComplaintForm,
    describes_something,
)
from bot.actions.handoff import ActionOpenHandoff
from core.settings import PROJECT_ROOT, ServicesSettings, get_settings
from services.catalog import load_catalog
from services.facade import Services
from services.models import Complaint

pytestmark = pytest.mark.slow

DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
PHONE = "15885211234"
DESCRIBED = "办证窗口的人态度很差让我跑了三趟"
SUBMIT = '/affirm{"complaint_confirm": "submit"}'
EDIT = '/inform{"complaint_confirm": "edit"}'
CANCEL = '/deny{"complaint_confirm": "cancel"}'


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    base = get_settings()
    config = ServicesSettings(
        **{**base.services.model_dump(), "database_url": f"sqlite:///{tmp_path / 's.db'}"}
    )
    facade = Services.from_settings(base.model_copy(update={"services": config}))
    facade.sync_catalog(load_catalog(base.knowledge.guides_dir, base.knowledge.halls_file))
    previous, backend._services = backend._services, facade
    yield facade
    backend._services = previous


def complaints(services: Services) -> int:
    return len(services.audit_log(reader="测试", limit=1000, action="complaint.open"))


def handoffs(services: Services) -> int:
    return len(services.audit_log(reader="测试", limit=1000, action="handoff.open"))


def tracker(
    text: str,
    intent: str = "inform",
    *,
    confidence: float = 0.99,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    form: str | None = None,
    earlier: list[dict[str, Any]] | None = None,
) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": entities or []}
    events = [*(earlier or []), {"event": "user", "text": text, "parse_data": latest}]
    loop = {"name": form, "is_interrupted": False} if form else {}
    return Tracker("web:test", dict(slots or {}), latest, events, False, None, loop, "action_listen")


def at(slot: str | None, text: str, intent: str = "inform", **slots: Any) -> Tracker:
    """A message to the complaint form while it asks for ``slot`` (payload entities parsed)."""
    entities = []
    if text.startswith("/") and "{" in text:
        entities = [{"entity": k, "value": v} for k, v in yaml.safe_load(text[text.index("{") :]).items()]
        intent = text[1 : text.index("{")]
    return tracker(
        text, intent, entities=entities, form="complaint_form", slots={"requested_slot": slot, **slots}
    )


async def run(action: Action, track: Tracker) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """(all text said, the messages, the slots set)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, DOMAIN)
    text = "\n".join(m.get("text") or "" for m in dispatcher.messages)
    return text, dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


FILLED = {
    "complaint_kind": "complaint",
    "complaint_content": DESCRIBED,
    "complaint_place": "汇川区政务服务中心",
    "complaint_contact": PHONE,
}


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("我要投诉", False),
        ("我想投诉一下", False),
        ("要投诉咋个投", False),
        ("我要曝光你们", False),
        ("排了一上午队没办成，我要投诉", True),
        ("投诉窗口工作人员态度差", True),
    ],
)
def test_a_bare_request_describes_nothing(text: str, described: bool) -> None:
    assert describes_something(text) is described


async def test_an_explicit_complaint_with_content_goes_straight_to_place(services: Services) -> None:
    text, _, slots = await run(ActionStartComplaint(), tracker("排了一上午队没办成，我要投诉", "complaint"))
    assert slots["consent"] == "given" and slots["complaint_content"] == "排了一上午队没办成，我要投诉"
    assert slots["complaint_place"] is None and "已记下您说的情况" in text
    # The form validates the prefilled content on activation; the first empty slot, place, is next.
    activation = tracker("排了一上午队没办成，我要投诉", "complaint", form=None, slots=slots)
    activation.events.append(
        {"event": "slot", "name": "complaint_content", "value": slots["complaint_content"]}
    )
    _, _, validated = await run(ValidateComplaintForm(), activation)
    assert validated == {"complaint_content": "排了一上午队没办成，我要投诉"}
    assert complaints(services) == 0


async def test_activation_revalidates_the_cleared_slots_quietly(services: Services) -> None:
    """Rasa sends the slots action_start_complaint just set (None included) to validation."""
    _, _, started = await run(ActionStartComplaint(), tracker("我要投诉", "complaint"))
    activation = tracker("我要投诉", "complaint", slots=started)
    activation.events += [{"event": "slot", "name": name, "value": value} for name, value in started.items()]
    text, _, validated = await run(ValidateComplaintForm(), activation)
    assert text == ""
    assert all(
        validated[slot] is None for slot in ("complaint_content", "complaint_place", "complaint_contact")
    )
    assert validated["complaint_confirm"] is None


async def test_a_complaint_naming_a_hall_fills_the_place() -> None:
    hall = [{"entity": "hall", "value": "播州区政务服务中心"}]
    _, _, slots = await run(
        ActionStartComplaint(),
        tracker("我要反映问题，播州区政务服务中心的人提前下班了", "complaint", entities=hall),
    )
    assert slots["complaint_place"] == "播州区政务服务中心" and slots["complaint_content"]


async def test_i_want_to_complain_asks_what_happened(services: Services) -> None:
    _, _, slots = await run(ActionStartComplaint(), tracker("我要投诉", "complaint"))
    assert slots["consent"] == "given" and slots["complaint_content"] is None
    text, _, _ = await run(ActionAskComplaintContent(), tracker("我要投诉", "complaint"))
    assert "遇到了什么问题" in text
    # Saying 我要投诉 again is not a description.
    text, _, slots = await run(ValidateComplaintForm(), at("complaint_content", "我就是要投诉", "complaint"))
    assert slots["complaint_content"] is None and "具体说说" in text
    _, _, slots = await run(ValidateComplaintForm(), at("complaint_content", DESCRIBED, "complaint"))
    assert slots["complaint_content"] == DESCRIBED


async def test_a_low_confidence_complaint_asks_first_and_files_nothing(services: Services) -> None:
    said = "窗口的人态度不好我不满意"
    text, messages, slots = await run(ActionStartComplaint(), tracker(said, "complaint", confidence=0.6))
    assert text == "您是要投诉/反映问题吗？"
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ['/complaint{"complaint_consent": "yes"}', '/complaint{"complaint_consent": "no"}']
    assert slots == {"consent": "asked", "consent_request": said}
    assert "complaint_content" not in slots and complaints(services) == 0

    earlier = [{"event": "user", "text": said, "parse_data": {"text": said, "entities": []}}]
    yes = tracker(
        payloads[0],
        "complaint",
        entities=[{"entity": "complaint_consent", "value": "yes"}],
        slots=slots,
        earlier=earlier,
    )
    _, _, started = await run(ActionStartComplaint(), yes)
    assert started["consent"] == "given" and started["complaint_content"] == said
    assert complaints(services) == 0


async def test_explicit_words_without_confidence_still_ask() -> None:
    text, _, slots = await run(ActionStartComplaint(), tracker("我要投诉", "complaint", confidence=0.7))
    assert text == "您是要投诉/反映问题吗？" and slots["consent"] == "asked"


async def test_a_complaint_word_beside_a_question_asks_first(services: Services) -> None:
    said = "听别人说驾照换证麻烦得很，要投诉都找不到人，我就想知道驾照到期能不能在手机上换"
    text, _, slots = await run(ActionStartComplaint(), tracker(said, "complaint", confidence=0.95))
    assert text == "您是要投诉/反映问题吗？" and slots["consent"] == "asked"
    assert complaints(services) == 0


async def test_not_a_complaint_answers_the_message_as_a_question(services: Services) -> None:
    said = "高龄补贴要带哪些材料"
    earlier = [{"event": "user", "text": said, "parse_data": {"text": said, "entities": []}}]
    no = tracker(
        '/complaint{"complaint_consent": "no"}',
        "complaint",
        entities=[{"entity": "complaint_consent", "value": "no"}],
        slots={"consent": "asked", "consent_request": said},
        earlier=earlier,
    )
    text, _, slots = await run(ActionStartComplaint(), no)
    assert "来源：《高龄补贴申领》" in text
    assert slots["consent"] == "declined" and "complaint_content" not in slots
    assert complaints(services) == 0


async def test_a_typed_yes_to_the_question_starts_the_form() -> None:
    said = "说好的最多跑一次我都跑了四次了我要反映问题"
    earlier = [{"event": "user", "text": said, "parse_data": {"text": said, "entities": []}}]
    yes = tracker("是的", "affirm", slots={"consent": "asked", "consent_request": said}, earlier=earlier)
    _, _, slots = await run(ActionStartComplaint(), yes)
    assert slots["consent"] == "given" and slots["complaint_content"] == said


async def test_optional_answers_can_be_skipped_and_the_phone_is_checked() -> None:
    _, _, slots = await run(ValidateComplaintForm(), at("complaint_place", "跳过"))
    assert slots["complaint_place"] == SKIPPED
    _, _, slots = await run(ValidateComplaintForm(), at("complaint_contact", "不用了", "deny"))
    assert slots["complaint_contact"] == SKIPPED
    text, _, slots = await run(ValidateComplaintForm(), at("complaint_contact", "1588521"))
    assert slots["complaint_contact"] is None and "11位" in text and "跳过" in text
    _, _, slots = await run(ValidateComplaintForm(), at("complaint_contact", f"我的电话是{PHONE}"))
    assert slots["complaint_contact"] == PHONE


async def test_the_summary_masks_the_phone_and_offers_structured_buttons() -> None:
    text, messages, _ = await run(ActionAskComplaintConfirm(), at("complaint_confirm", "", **FILLED))
    assert PHONE not in text and "158****1234" in text
    assert DESCRIBED in text and "汇川区政务服务中心" in text
    buttons = {b["title"]: b["payload"] for b in messages[0]["buttons"]}
    assert buttons == {"提交": SUBMIT, "修改": EDIT, "取消": CANCEL}
    skipped = {**FILLED, "complaint_place": SKIPPED, "complaint_contact": SKIPPED}
    text, _, _ = await run(ActionAskComplaintConfirm(), at("complaint_confirm", "", **skipped))
    assert "地点：未填写" in text and "联系电话：未留" in text


async def answer_summary(text: str, intent: str = "inform", **slots: Any) -> tuple[str, dict[str, Any]]:
    said, _, events = await run(
        ValidateComplaintForm(), at("complaint_confirm", text, intent, **FILLED, **slots)
    )
    return said, events


async def file_if_submitted(services: Services, events: dict[str, Any]) -> str:
    """What action_submit_complaint does with the form's outcome."""
    slots = {**FILLED, **events}
    text, _, _ = await run(ActionSubmitComplaint(), tracker("", slots=slots))
    return text


async def test_submit_files_exactly_one_complaint(services: Services) -> None:
    _, events = await answer_summary(SUBMIT)
    assert events["complaint_confirm"] == "submit"
    text, messages, forgotten = await run(ActionSubmitComplaint(), tracker("", slots={**FILLED, **events}))
    assert complaints(services) == 1
    number = messages[0]["custom"]["tracking_number"]
    assert number.startswith("TS") and f"受理编号 {number}" in text
    assert all(value is None for value in forgotten.values())
    status = services.complaint_status(number)
    assert status.kind_label == "投诉"


async def test_the_complaint_names_the_answer_it_is_about(services: Services) -> None:
    """The last message answered with a card before the complaint: the workbench joins them."""
    earlier = [
        {"event": "user", "text": "低保要带哪些材料", "message_id": "t-answered"},
        {
            "event": "bot",
            "text": "办理「最低生活保障申请」需要准备：…",
            "data": {"custom": {"type": "guide_card"}},
        },
        {"event": "user", "text": "我要投诉", "message_id": "t-complaint"},
        {"event": "bot", "text": "请说说遇到了什么问题", "data": {}},
    ]
    _, confirmed = await answer_summary(SUBMIT)
    track = tracker("", slots={**FILLED, **confirmed}, earlier=earlier)
    _, messages, _ = await run(ActionSubmitComplaint(), track)
    with services.unit() as (session, _ctx):
        filed = session.scalars(select(Complaint)).one()
    assert filed.tracking_number == messages[0]["custom"]["tracking_number"]
    assert filed.turn_id == "t-answered"


@pytest.mark.parametrize(
    ("said", "intent"), [("提交", "inform"), ("确认提交", "affirm"), ("对的，提交", "affirm")]
)
async def test_typed_submit_words_submit(said: str, intent: str) -> None:
    _, events = await answer_summary(said, intent)
    assert events["complaint_confirm"] == "submit"


@pytest.mark.parametrize(
    ("said", "intent"),
    [("2", "inform"), ("修改", "inform"), ("好的", "affirm"), ("嗯", "affirm"), (EDIT, "inform")],
)
async def test_anything_but_submit_at_the_summary_files_nothing(
    services: Services, said: str, intent: str
) -> None:
    _, events = await answer_summary(said, intent)
    assert events["complaint_confirm"] is None
    assert "已登记" not in await file_if_submitted(services, events)
    assert complaints(services) == 0


async def test_edit_asks_which_part_and_clears_only_that(services: Services) -> None:
    _, events = await answer_summary("修改")
    assert events["complaint_editing"] is True
    text, messages, _ = await run(
        ActionAskComplaintConfirm(), at("complaint_confirm", "", **FILLED, **events)
    )
    assert text == "要修改哪一项？"
    place = next(b["payload"] for b in messages[0]["buttons"] if b["title"] == "地点")
    _, events = await answer_summary(place, complaint_editing=True)
    assert events == {"complaint_place": None, "complaint_confirm": None, "complaint_editing": None}
    _, events = await answer_summary("改一下电话")
    assert events["complaint_contact"] is None and events["complaint_confirm"] is None
    assert complaints(services) == 0


@pytest.mark.parametrize(
    ("said", "intent"), [(CANCEL, "deny"), ("取消", "cancel_appointment"), ("算了", "deny")]
)
async def test_cancel_at_the_summary_ends_the_form_and_files_nothing(
    services: Services, said: str, intent: str
) -> None:
    _, events = await answer_summary(said, intent)
    assert events["complaint_confirm"] == "cancel" and events["requested_slot"] is None
    assert "没有提交" in await file_if_submitted(services, events)
    assert complaints(services) == 0


async def test_never_mind_while_describing_ends_the_form() -> None:
    _, _, events = await run(ValidateComplaintForm(), at("complaint_content", "算了", "deny"))
    assert events["complaint_confirm"] == "cancel" and events["requested_slot"] is None
    assert "complaint_content" not in events


async def test_a_description_mentioning_staff_is_not_a_handoff() -> None:
    said = "窗口工作人员一直耍手机不理人"
    _, _, events = await run(ValidateComplaintForm(), at("complaint_content", said, "request_human"))
    assert events["complaint_content"] == said
    _, _, events = await run(ValidateComplaintForm(), at("complaint_content", "转人工", "request_human"))
    assert events == {}  # the form rejects; the 转人工 rule takes over


async def test_a_correction_is_filed_as_one(services: Services) -> None:
    _, _, slots = await run(ActionStartComplaint(), tracker("我要纠错，办事指南上的电话打不通", "complaint"))
    assert slots["complaint_kind"] == "correction"
    filled = {**FILLED, **slots, "complaint_place": SKIPPED, "complaint_contact": SKIPPED}
    text, _, _ = await run(
        ActionSubmitComplaint(), tracker("", slots={**filled, "complaint_confirm": "submit"})
    )
    assert "已登记您的曝光纠错" in text and complaints(services) == 1


# --- handoff ---------------------------------------------------------------------------------------


async def test_handoff_opens_on_a_clear_request(services: Services) -> None:
    text, _, slots = await run(ActionOpenHandoff(), tracker("我要转人工", "request_human"))
    assert "工单号" in text and slots["consent"] == "given" and handoffs(services) == 1


async def test_a_vague_or_unsure_handoff_request_asks_first(services: Services) -> None:
    for said, confidence in (("有人吗", 0.95), ("转人工", 0.5)):
        text, messages, slots = await run(
            ActionOpenHandoff(), tracker(said, "request_human", confidence=confidence)
        )
        assert text == "需要为您转人工服务吗？" and slots["consent"] == "asked"
        assert messages[0]["buttons"][0]["payload"] == "/request_human"
    assert handoffs(services) == 0


async def test_the_handoff_button_and_a_typed_yes_open_with_the_request_as_reason(services: Services) -> None:
    pending = {"consent": "asked", "consent_request": "有人吗"}
    text, _, _ = await run(ActionOpenHandoff(), tracker("/request_human", "request_human", slots=pending))
    assert "工单号" in text
    (waiting,) = services.waiting_handoffs()
    assert waiting.reason == "有人吗"
    text, _, _ = await run(ActionOpenHandoff(), tracker("要得", "affirm", slots=pending))
    assert "工单号" in text


async def test_no_to_the_handoff_question_opens_nothing(services: Services) -> None:
    said = "人工服务窗口几点下班"
    earlier = [{"event": "user", "text": said, "parse_data": {"text": said, "entities": []}}]
    no = tracker(
        '/request_human{"handoff_consent": "no"}',
        "request_human",
        entities=[{"entity": "handoff_consent", "value": "no"}],
        slots={"consent": "asked", "consent_request": said},
        earlier=earlier,
    )
    text, _, slots = await run(ActionOpenHandoff(), no)
    assert "工单号" not in text and slots["consent"] == "declined" and handoffs(services) == 0
