"""The 代办 form's actions and the DB status lookup, on a fresh SQLite database, without Rasa.

The guides come from knowledge/guides (no built index): a service is found here by its
canonical name or alias only; finding one from a phrase by retrieval is left to the e2e test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import agency, backend
from bot.actions.appointment import common
from bot.actions.status import (
    ActionAskStatusProof,
    ActionCheckApplicationStatus,
    ValidateApplicationStatusForm,
)
from core.settings import PROJECT_ROOT, ServicesSettings, get_settings
from indexer.loader import load_guides
from indexer.schema import Guide
from services.agency import NEUTRAL_ANSWER, AgencyRequestForm
from services.catalog import load_catalog
from services.db import make_engine, make_sessionmaker, migrate
from services.facade import Services
from services.models import AgencyStatus

SENDER = "web:agency"
NAME = "王德明"
PHONE = "15885211234"
DISABILITY = "残疾人证办理"
NEWBORN = "新生儿出生一件事"
DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


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


@pytest.fixture(autouse=True)
def guides(monkeypatch: pytest.MonkeyPatch) -> None:
    """The served guides, looked up by id, name or alias, as the index would for those."""
    knowledge = get_settings().knowledge
    loaded = [item.guide for item in load_guides(knowledge.guides_dir).guides]
    names = {key: guide for guide in loaded for key in (guide.id, guide.name, *guide.aliases)}

    def find(value: str | None) -> Guide | None:
        return names.get(value or "")

    monkeypatch.setattr(agency, "get_guide", find)
    monkeypatch.setattr(agency, "list_guides", lambda: loaded)
    monkeypatch.setattr(common, "guide_for", find)


def tracker(
    text: str,
    intent: str = "inform",
    *,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    form: str | None = agency.FORM,
    set_now: dict[str, Any] | None = None,
) -> Tracker:
    """``set_now``: slots set since the message (by the start action), which the form validates."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    events = [{"event": "user", "text": text, "parse_data": latest}]
    events += [{"event": "slot", "name": name, "value": value} for name, value in (set_now or {}).items()]
    loop = {"name": form, "is_interrupted": False} if form else {}
    merged = {**(slots or {}), **(set_now or {})}
    return Tracker(SENDER, merged, latest, events, False, None, loop, "action_listen")


async def run(action: Action, track: Tracker) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """(all text said, the messages, the slots set)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, track, DOMAIN)
    text = "\n".join(m.get("text") or "" for m in dispatcher.messages)
    return text, dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def held(services: Services, kind: str, value: str) -> dict[str, str]:
    hold = services.hold_personal(SENDER, kind, value)
    return {"masked": hold.masked, "ref": hold.reference}


def filled(services: Services, **slots: Any) -> dict[str, Any]:
    """Every answer given, the summary shown."""
    return {
        agency.SUBJECT: DISABILITY,
        agency.NAME: held(services, "name", NAME),
        agency.PHONE: held(services, "phone", PHONE),
        agency.DISTRICT: "湄潭县",
        agency.TOWN: "永兴镇",
        "requested_slot": agency.CONFIRMED,
        **slots,
    }


def asked(slot: str, **slots: Any) -> dict[str, Any]:
    return {"requested_slot": slot, **slots}


# What to do: from the conversation, else asked
async def test_the_bundle_talked_about_is_what_the_agent_does(services: Services) -> None:
    text, _, slots = await run(
        agency.ActionStartAgency(),
        tracker(
            "能不能帮我代办", "request_agency", slots={"bundle": "xinshenger_chusheng", "service": "结婚登记"}
        ),
    )
    assert slots[agency.SUBJECT] == NEWBORN and f"「{NEWBORN}」" in text and "免费" in text


async def test_a_step_answered_after_the_bundle_is_the_later_errand(services: Services) -> None:
    _, _, slots = await run(
        agency.ActionStartAgency(),
        tracker(
            "能不能帮我代办",
            "request_agency",
            slots={
                "bundle": "xinshenger_chusheng",
                "service": "出生登记(新生儿入户)",
                "last_guide": "chusheng_dengji",
            },
        ),
    )
    assert slots[agency.SUBJECT] == "出生登记(新生儿入户)"


async def test_a_service_named_in_the_request_wins_over_the_conversation(services: Services) -> None:
    _, _, slots = await run(
        agency.ActionStartAgency(),
        tracker(
            "残疾人证能不能代办",
            "request_agency",
            slots={"bundle": "xinshenger_chusheng"},
            entities=[{"entity": "service", "value": DISABILITY}],
        ),
    )
    assert slots[agency.SUBJECT] == DISABILITY


async def test_a_bundle_alias_in_the_request_is_understood(services: Services) -> None:
    _, _, slots = await run(agency.ActionStartAgency(), tracker("生娃娃了 手续能代办不", "request_agency"))
    assert slots[agency.SUBJECT] == NEWBORN


async def test_without_a_subject_nothing_is_assumed_and_earlier_answers_are_emptied(
    services: Services,
) -> None:
    name = held(services, "name", NAME)
    old: dict[str, Any] = {agency.NAME: name, agency.NUMBER: "DB202611300001"}
    text, _, slots = await run(
        agency.ActionStartAgency(), tracker("屋头老人走不动 能不能帮我代办", "request_agency", slots=old)
    )
    assert slots[agency.SUBJECT] is None and slots[agency.NAME] is None and slots[agency.NUMBER] is None
    assert "「" not in text
    assert services.reveal_personal(SENDER, name["ref"]) is None


@pytest.mark.parametrize(
    ("said", "subject"),
    [
        ("残疾证", DISABILITY),
        ("办残疾证", DISABILITY),
        ("高龄补贴申领", "高龄补贴申领"),
        ("生娃娃", NEWBORN),
        ("残疾人服务一件事", "残疾人服务一件事"),
    ],
)
async def test_the_subject_is_a_service_or_a_bundle_by_its_names(
    services: Services, said: str, subject: str
) -> None:
    text, _, slots = await run(agency.ValidateAgencyForm(), tracker(said, slots=asked(agency.SUBJECT)))
    assert slots[agency.SUBJECT] == subject and f"「{subject}」" in text


async def test_an_unknown_subject_is_asked_again(services: Services) -> None:
    text, _, slots = await run(agency.ValidateAgencyForm(), tracker("打麻将", slots=asked(agency.SUBJECT)))
    assert slots[agency.SUBJECT] is None and "没有找到" in text


async def test_a_question_is_not_taken_for_the_answer(services: Services) -> None:
    """要带啥子材料 when the 乡镇 was asked: the form rejects the turn and a rule answers it."""
    _, _, slots = await run(
        agency.ValidateAgencyForm(),
        tracker("要带啥子材料", "ask_materials", slots=asked(agency.TOWN, agency_district="湄潭县")),
    )
    assert agency.TOWN not in slots


# Name and phone: validated and held; the slots keep masks
async def test_the_name_is_held_and_only_its_mask_stays_in_the_slot(services: Services) -> None:
    _, _, slots = await run(agency.ValidateAgencyForm(), tracker(f"我叫{NAME}", slots=asked(agency.NAME)))
    value = slots[agency.NAME]
    assert value["masked"] == "王*明" and NAME not in str(value)
    assert services.reveal_personal(SENDER, value["ref"]) == NAME


async def test_a_whole_typed_name_is_kept_when_the_nlu_tags_only_the_surname(services: Services) -> None:
    surname_only = [{"entity": "person_name", "value": "王"}]
    _, _, slots = await run(
        agency.ValidateAgencyForm(), tracker("王老三", slots=asked(agency.NAME), entities=surname_only)
    )
    assert slots[agency.NAME]["masked"] == "王*三"
    assert services.reveal_personal(SENDER, slots[agency.NAME]["ref"]) == "王老三"


async def test_a_yes_is_no_name(services: Services) -> None:
    text, _, slots = await run(agency.ValidateAgencyForm(), tracker("好的", slots=asked(agency.NAME)))
    assert slots[agency.NAME] is None and "姓名" in text


async def test_a_wrong_phone_is_refused_in_chinese_and_a_right_one_held(services: Services) -> None:
    text, _, slots = await run(agency.ValidateAgencyForm(), tracker("1588521", slots=asked(agency.PHONE)))
    assert slots[agency.PHONE] is None and "请重新输入手机号" in text
    _, _, slots = await run(agency.ValidateAgencyForm(), tracker(PHONE, slots=asked(agency.PHONE)))
    assert slots[agency.PHONE]["masked"] == "158****1234" and PHONE not in str(slots[agency.PHONE])


# 县区 and 乡镇
async def test_a_short_district_name_is_understood(services: Services) -> None:
    _, _, slots = await run(agency.ValidateAgencyForm(), tracker("湄潭", slots=asked(agency.DISTRICT)))
    assert slots[agency.DISTRICT] == "湄潭县"


async def test_a_place_outside_the_city_is_refused_with_the_districts_offered(services: Services) -> None:
    text, messages, slots = await run(
        agency.ValidateAgencyForm(), tracker("北京朝阳", slots=asked(agency.DISTRICT))
    )
    assert slots[agency.DISTRICT] is None and "不是遵义市的县区" in text
    titles = [button["title"] for button in messages[-1]["buttons"]]
    assert "湄潭县" in titles and "遵义市" not in titles


async def test_the_district_asked_offers_buttons(services: Services) -> None:
    _, messages, _ = await run(agency.ActionAskAgencyDistrict(), tracker("", slots=asked(agency.DISTRICT)))
    payloads = [button["payload"] for button in messages[0]["buttons"]]
    assert '/inform{"district": "汇川区"}' in payloads


async def test_the_town_drops_the_district_said_again(services: Services) -> None:
    _, _, slots = await run(
        agency.ValidateAgencyForm(),
        tracker("湄潭县永兴镇", slots=asked(agency.TOWN, agency_district="湄潭县")),
    )
    assert slots[agency.TOWN] == "永兴镇"


async def test_a_town_too_long_is_refused(services: Services) -> None:
    text, _, slots = await run(
        agency.ValidateAgencyForm(),
        tracker("永兴镇" * 20, slots=asked(agency.TOWN, agency_district="湄潭县")),
    )
    assert slots[agency.TOWN] is None and "不能超过50个字" in text


# The summary: consent before the request is opened
async def test_the_summary_shows_masks_and_three_buttons(services: Services) -> None:
    text, messages, _ = await run(agency.ActionAskAgencyConfirmed(), tracker("", slots=filled(services)))
    assert "王*明" in text and "158****1234" in text and "湄潭县永兴镇" in text and DISABILITY in text
    assert NAME not in text and PHONE not in text
    assert [button["title"] for button in messages[0]["buttons"]] == ["确认", "修改", "取消"]


async def test_cancel_at_the_summary_opens_nothing(services: Services) -> None:
    text, _, slots = await run(
        agency.ValidateAgencyForm(),
        tracker('/deny{"confirm_answer": "no"}', "deny", slots=filled(services), entities=[_tap("no")]),
    )
    assert slots[agency.CONFIRMED] == "no" and "没有提交" in text
    assert services.agency_requests() == []


async def test_changing_the_phone_keeps_every_other_answer(services: Services) -> None:
    _, _, slots = await run(
        agency.ValidateAgencyForm(),
        tracker("修改手机号", slots=filled(services, agency_editing=True)),
    )
    assert slots[agency.PHONE] is None and slots[agency.CONFIRMED] is None
    assert agency.NAME not in slots and agency.DISTRICT not in slots and agency.TOWN not in slots
    assert services.agency_requests() == []


async def test_an_unclear_answer_asks_again(services: Services) -> None:
    text, _, slots = await run(agency.ValidateAgencyForm(), tracker("2", slots=filled(services)))
    assert slots[agency.CONFIRMED] is None and "确认" in text
    assert services.agency_requests() == []


async def test_confirm_opens_the_request_and_the_reply_gives_the_number(services: Services) -> None:
    answers = filled(services)
    _, _, slots = await run(
        agency.ValidateAgencyForm(),
        tracker('/affirm{"confirm_answer": "yes"}', "affirm", slots=answers, entities=[_tap("yes")]),
    )
    number = slots[agency.NUMBER]
    assert slots[agency.CONFIRMED] == "yes" and number.startswith("DB")
    (request,) = services.agency_requests()
    assert (request.tracking_number, request.subject_name, request.service_id) == (
        number,
        DISABILITY,
        "canjirenzheng_banli",
    )
    assert (request.name_masked, request.phone_masked, request.district) == ("王*明", "158****1234", "湄潭县")

    text, _, cleared = await run(agency.ActionReportAgency(), tracker("", slots={**answers, **slots}))
    assert f"代办编号：{number}" in text and "158****1234" in text and "查代办进度" in text
    assert PHONE not in text and all(value is None for value in cleared.values())
    assert services.reveal_personal(SENDER, answers[agency.PHONE]["ref"]) is None


async def test_a_bundle_request_is_opened_for_the_bundle(services: Services) -> None:
    _, _, slots = await run(
        agency.ValidateAgencyForm(),
        tracker("确认", "affirm", slots=filled(services, agency_subject=NEWBORN)),
    )
    (request,) = services.agency_requests()
    assert (request.bundle_id, request.service_id, request.subject_name) == (
        "xinshenger_chusheng",
        None,
        NEWBORN,
    )
    assert slots[agency.NUMBER] == request.tracking_number


async def test_a_refused_answer_is_asked_again_and_the_rest_kept(services: Services) -> None:
    """The backend checks the 县区 again at 确认 (the halls may have changed since it was said)."""
    text, _, slots = await run(
        agency.ValidateAgencyForm(),
        tracker("确认", "affirm", slots=filled(services, agency_district="北京区")),
    )
    assert slots[agency.DISTRICT] is None and slots[agency.CONFIRMED] is None and "县区" in text
    assert agency.NAME not in slots and agency.PHONE not in slots and agency.TOWN not in slots
    assert services.agency_requests() == []


async def test_an_expired_phone_is_asked_again(services: Services) -> None:
    answers = filled(services)
    services.release_personal(SENDER)
    text, _, slots = await run(agency.ValidateAgencyForm(), tracker("确认", "affirm", slots=answers))
    assert slots[agency.PHONE] is None and slots[agency.NAME] is None and "已经清除" in text
    assert services.agency_requests() == []


# Status by DB number + phone
def _open(services: Services) -> str:
    return services.open_agency_request(
        AgencyRequestForm(
            sender_id="web:village",
            name=NAME,
            phone=PHONE,
            district="湄潭",
            town="永兴镇",
            service_id="canjirenzheng_banli",
        ),
        bundles_dir=get_settings().knowledge.bundles_dir,
    ).tracking_number


def _status_tracker(number: str, proof: Any) -> Tracker:
    return tracker(
        "",
        slots={"application_number": number, "status_proof": proof},
        form="application_status_form",
    )


async def test_a_db_number_asks_for_the_phone_only(services: Services) -> None:
    number = _open(services)
    text, _, _ = await run(ActionAskStatusProof(), _status_tracker(number, None))
    assert "手机号" in text and "身份证" not in text
    dispatcher = CollectingDispatcher()
    result = ValidateApplicationStatusForm().validate_status_proof(
        "010024", dispatcher, _status_tracker(number, None), DOMAIN
    )
    assert result["status_proof"] is None and "手机号" in dispatcher.messages[0]["text"]


async def test_status_by_number_and_phone(services: Services) -> None:
    number = _open(services)
    dispatcher = CollectingDispatcher()
    validated = ValidateApplicationStatusForm().validate_status_proof(
        PHONE, dispatcher, _status_tracker(number, None), DOMAIN
    )
    text, messages, slots = await run(
        ActionCheckApplicationStatus(), _status_tracker(number, validated["status_proof"])
    )
    assert number in text and "已受理，待分派代办员" in text and DISABILITY in text
    assert messages[0]["custom"] == {"type": "agency_status", "number": number, "status": "received"}
    assert slots == {"application_number": None, "status_proof": None}

    services.change_agency_status(number, AgencyStatus.assigned, actor="zy1001", agent="李代办")
    validated = ValidateApplicationStatusForm().validate_status_proof(
        PHONE, dispatcher, _status_tracker(number, None), DOMAIN
    )
    text, _, _ = await run(ActionCheckApplicationStatus(), _status_tracker(number, validated["status_proof"]))
    assert "已分派代办员" in text and "李代办" not in text


async def test_a_wrong_phone_gets_the_neutral_answer(services: Services) -> None:
    number = _open(services)
    proof = held(services, "phone", "13900000000")
    text, _, _ = await run(ActionCheckApplicationStatus(), _status_tracker(number, proof))
    assert text == NEUTRAL_ANSWER
    text, _, _ = await run(
        ActionCheckApplicationStatus(), _status_tracker("DB209901010001", held(services, "phone", PHONE))
    )
    assert text == NEUTRAL_ANSWER


def test_a_db_number_said_in_the_message_is_taken() -> None:
    dispatcher = CollectingDispatcher()
    result = ValidateApplicationStatusForm().validate_application_number(
        "db 202611300001", dispatcher, tracker("", form="application_status_form"), DOMAIN
    )
    assert result == {"application_number": "DB202611300001"} and not dispatcher.messages


def _tap(answer: str) -> dict[str, str]:
    return {"entity": "confirm_answer", "value": answer}
