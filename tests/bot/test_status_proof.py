"""The status form's proof: an ID tail stays in the slot, a phone number is held and only its
mask and a reference are kept; the lookup reveals it and forgets it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import backend
from bot.actions.status import (
    ActionAskApplicationNumber,
    ActionCheckApplicationStatus,
    ValidateApplicationStatusForm,
)
from core.settings import ServicesSettings, get_settings
from services.applications import ApplicationRequest, ApplicationView
from services.catalog import load_catalog
from services.db import make_engine, make_sessionmaker, migrate
from services.facade import Services

ID_NUMBER = "520302194503010024"
PHONE = "15885211234"
SENDER = "web:status"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    config = ServicesSettings(
        **{**get_settings().services.model_dump(), "database_url": f"sqlite:///{tmp_path / 's.db'}"}
    )
    migrate(config.database_url)
    facade = Services(make_sessionmaker(make_engine(config.database_url)), config)
    knowledge = get_settings().knowledge
    facade.sync_catalog(load_catalog(knowledge.guides_dir, knowledge.halls_file))
    previous, backend._services = backend._services, facade
    yield facade
    backend._services = previous


@pytest.fixture
def application(services: Services) -> ApplicationView:
    return services.submit_application(
        ApplicationRequest(
            service_id="gaoling_butie",
            applicant_name="王德明",
            id_number=ID_NUMBER,
            phone=PHONE,
            channel="window",
            hall_id="city",
        ),
        handler="窗口",
    )


def tracker(text: str, slots: dict[str, Any]) -> Tracker:
    latest = {"text": text, "intent": {"name": "inform", "confidence": 0.99}, "entities": []}
    return Tracker(SENDER, slots, latest, [], False, None, {}, "action_listen")


def validate(value: str) -> tuple[Any, str]:
    dispatcher = CollectingDispatcher()
    result = ValidateApplicationStatusForm().validate_status_proof(value, dispatcher, tracker(value, {}), {})
    return result["status_proof"], "".join(m.get("text") or "" for m in dispatcher.messages)


@pytest.mark.parametrize(
    ("said", "kept"), [("010024", "010024"), (ID_NUMBER, "010024"), ("01002x", "01002X")]
)
def test_an_id_tail_is_kept_as_the_proof_and_a_whole_id_is_cut_to_it(
    services: Services, said: str, kept: str
) -> None:
    assert validate(said) == (kept, "")


def test_a_phone_is_held_and_the_slot_keeps_its_mask(services: Services) -> None:
    proof, said = validate(f"{PHONE[:3]} {PHONE[3:]}")
    assert said == "" and proof["masked"] == "158****1234" and PHONE not in str(proof)
    assert services.reveal_personal(SENDER, proof["ref"]) == PHONE


@pytest.mark.parametrize("said", ["12345678901", "1588521"])
def test_what_is_neither_is_refused_with_a_hint(services: Services, said: str) -> None:
    assert validate(said) == (None, "请输入身份证号后6位（如 02001X），或11位手机号。")


async def test_the_lookup_uses_the_held_phone_then_forgets_it(
    services: Services, application: ApplicationView
) -> None:
    proof, _ = validate(PHONE)
    dispatcher = CollectingDispatcher()
    events = await ActionCheckApplicationStatus().run(
        dispatcher, tracker("", {"application_number": application.number, "status_proof": proof}), {}
    )
    text = "".join(m.get("text") or "" for m in dispatcher.messages)
    assert application.number in text and "高龄补贴申领" in text
    assert SlotSet("status_proof", None) in events
    assert services.reveal_personal(SENDER, proof["ref"]) is None


async def test_a_phone_that_is_gone_is_not_looked_up(
    services: Services, application: ApplicationView
) -> None:
    proof, _ = validate(PHONE)
    services.release_personal(SENDER)  # as the purge does once it has expired
    dispatcher = CollectingDispatcher()
    await ActionCheckApplicationStatus().run(
        dispatcher, tracker("", {"application_number": application.number, "status_proof": proof}), {}
    )
    text = "".join(m.get("text") or "" for m in dispatcher.messages)
    assert "手机号只保留" in text and "重新说“查办件进度”" in text and "高龄补贴" not in text


@pytest.mark.parametrize(
    ("said", "asks_for"),
    [("查代办进度", "代办编号"), ("我的投诉处理得咋样了", "投诉受理编号"), ("查办件进度", "ZW")],
)
async def test_the_number_asked_for_is_the_kind_the_resident_asked_about(said: str, asks_for: str) -> None:
    dispatcher = CollectingDispatcher()
    latest = {"text": said, "intent": {"name": "check_status", "confidence": 0.9}, "entities": []}
    tracker = Tracker("web:ask", {}, latest, [], False, None, {}, "action_listen")
    await ActionAskApplicationNumber().run(dispatcher, tracker, {})
    assert asks_for in dispatcher.messages[0]["text"]
