"""bot/tracker_store.py inside Rasa (.venv-rasa): what the tracker store writes holds no whole
身份证号 or mobile number, while the conversation itself is stored event for event."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parents[1]))  # rasa_python, whatever pytest's import mode
from rasa_python import run_in_rasa

from core.settings import PROJECT_ROOT
from services.identity import mask_text

ID_NUMBER = "520302194503010024"
PHONE = "15885211234"
HELD = {"masked": "158****1234", "ref": "mZ3k9-Q"}
# Full-width digits, spaces, hyphens, +86: what residents type on phones.
VARIANTS = [
    "158 8521 1234",
    "158-8521-1234",
    "+86 15885211234",
    "8615885211234",
    "１５８８５２１１２３４",
    "520302 19450301 0024",
    "52030219450301002x",
]
PLAIN = [
    f"身份证{ID_NUMBER}，电话{PHONE}",
    "11010519491231002x",
    f"手机:{PHONE}。",
    f"{ID_NUMBER} {PHONE}",
]
UNTOUCHED = [
    "ZW202611030012",
    "预约码 7KQ4MZ2A",
    "2026-11-27 09:00-09:30（剩3个）",
    "电话：0851-28221234，热线 12345",
    "6222021234567890123",
    "158****1234",
]

# Runs in .venv-rasa: two turns of a booking saved through the store (with an event broker that
# keeps what it is sent), then what a later retrieve gives back.
SCRIPT = """
import json, sys
import asyncio
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import read_endpoint_config
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from bot.redaction import mask_numbers
from bot.tracker_store import RedactingSQLTrackerStore

directory, id_number, phone = sys.argv[1:4]
held, samples = json.loads(sys.argv[4]), json.loads(sys.argv[5])

class Kept(EventBroker):
    def __init__(self):
        self.sent = []
    def publish(self, event):
        self.sent.append(event)

domain = Domain.from_yaml('''
version: "3.1"
slots:
  booking_id_number: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  booking_phone: {type: text, influence_conversation: false, mappings: [{type: custom}]}
''')
broker = Kept()
store = RedactingSQLTrackerStore(
    domain=domain, event_broker=broker, dialect="sqlite", db=f"{directory}/tracker.db"
)

def said(text, entity, value):
    parse = {"text": text, "intent": {"name": "inform", "confidence": 0.9},
             "entities": [{"entity": entity, "value": value, "start": 0, "end": len(value)}]}
    return UserUttered(text, parse["intent"], parse["entities"], parse, message_id="a13900000000b")

async def main():
    tracker = await store.get_or_create_tracker("web:t")
    tracker.update_with_events([
        said(f"身份证号 {id_number}", "id_number", id_number),
        ActionExecuted("booking_form"),
        SlotSet("booking_id_number", id_number),
        SlotSet("booking_id_number", {"masked": "520302********0024", "ref": "r-1"}),
        BotUttered(f"您刚才输入的是 {id_number}，请留手机号",
                   {"buttons": [{"title": "用这个号", "payload": '/inform{"phone": "' + phone + '"}'}]}),
        ActionExecuted("action_listen"),
    ], domain)
    await store.save(tracker)
    in_memory_after_save = tracker.latest_message.text
    tracker = await store.retrieve("web:t")
    tracker.update_with_events([
        said(f"手机 {phone[:3]} {phone[3:7]} {phone[7:]}", "phone", phone),
        ActionExecuted("booking_form"),
        SlotSet("booking_phone", phone),
        SlotSet("booking_phone", held),
        ActionExecuted("action_listen"),
    ], domain)
    total = len(tracker.events)
    await store.save(tracker)
    again = await store.retrieve("web:t")
    print(json.dumps({
        "in_memory_after_save": in_memory_after_save,
        "events_in_memory": total,
        "events_retrieved": len(again.events),
        "types": [event.type_name for event in again.events],
        "slots": {"booking_id_number": again.get_slot("booking_id_number"),
                  "booking_phone": again.get_slot("booking_phone")},
        "last_text": again.latest_message.text,
        "message_id": again.latest_message.message_id,
        "broker": broker.sent,
        "masked": [mask_numbers(sample) for sample in samples],
        "loaded": type(loaded).__name__,
    }, ensure_ascii=False))

config = read_endpoint_config("endpoints.yml", "tracker_store")
config.kwargs["db"] = f"{directory}/loaded.db"
loaded = create_tracker_store(config, domain)
asyncio.run(main())
"""


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("tracker")
    samples = [*PLAIN, *VARIANTS, *UNTOUCHED]
    report: dict[str, Any] = run_in_rasa(
        SCRIPT, str(directory), ID_NUMBER, PHONE, json.dumps(HELD), json.dumps(samples, ensure_ascii=False)
    )
    report["masked"] = dict(zip(samples, report["masked"], strict=True))
    with sqlite3.connect(directory / "tracker.db") as db:
        report["rows"] = [data for (data,) in db.execute("SELECT data FROM events ORDER BY id")]
    return report


def _digits(text: str) -> str:
    """The text with full-width digits folded and gaps between digits dropped."""
    folded = text.translate({0xFF10 + i: 0x30 + i for i in range(10)})
    return re.sub(r"(?<=\d)[ \-\u3000\uff0d](?=\d)", "", folded)


def test_the_database_holds_no_whole_id_or_phone(stored: dict[str, Any]) -> None:
    rows = "\n".join(stored["rows"])
    assert ID_NUMBER not in _digits(rows) and PHONE not in _digits(rows)
    assert "520302********0024" in rows and "158****1234" in rows  # masked, not dropped


def test_an_event_broker_is_sent_masked_events_only(stored: dict[str, Any]) -> None:
    sent = json.dumps(stored["broker"], ensure_ascii=False)
    assert stored["broker"], "the broker received nothing"
    assert ID_NUMBER not in _digits(sent) and PHONE not in _digits(sent)


def test_every_event_is_stored_once_in_order(stored: dict[str, Any]) -> None:
    """The store appends what it has not stored yet by counting; masked copies keep that count."""
    assert len(stored["rows"]) == stored["events_in_memory"] == stored["events_retrieved"]
    assert stored["types"].count("user") == 2 and stored["types"].count("slot") == 4


def test_a_held_slot_reads_back_as_it_was_set(stored: dict[str, Any]) -> None:
    assert stored["slots"]["booking_phone"] == HELD
    assert stored["slots"]["booking_id_number"] == {"masked": "520302********0024", "ref": "r-1"}
    assert stored["last_text"] == "手机 158 **** 1234"
    assert stored["message_id"] == "a13900000000b"  # a random id is not personal data


def test_the_turn_in_progress_keeps_the_real_message(stored: dict[str, Any]) -> None:
    """The action server still gets this turn's numbers; only the stored copies are masked."""
    assert stored["in_memory_after_save"] == f"身份证号 {ID_NUMBER}"


@pytest.mark.parametrize("text", PLAIN)
def test_masks_look_like_the_services_masks(stored: dict[str, Any], text: str) -> None:
    assert stored["masked"][text] == mask_text(text)


@pytest.mark.parametrize("text", VARIANTS)
def test_numbers_typed_with_gaps_or_full_width_digits_are_masked(stored: dict[str, Any], text: str) -> None:
    masked = stored["masked"][text]
    assert "****" in masked and ID_NUMBER not in _digits(masked) and PHONE not in _digits(masked)


@pytest.mark.parametrize("text", UNTOUCHED)
def test_other_numbers_are_left_alone(stored: dict[str, Any], text: str) -> None:
    assert stored["masked"][text] == text


def test_both_endpoints_files_use_the_redacting_store(stored: dict[str, Any]) -> None:
    # Rasa falls back to an in-memory store, with only a warning, when it cannot import the class.
    assert stored["loaded"] == "RedactingSQLTrackerStore"
    for name in ("endpoints.yml", "endpoints.production.yml"):
        endpoints = yaml.safe_load((PROJECT_ROOT / name).read_text(encoding="utf-8"))
        assert endpoints["tracker_store"]["type"] == "bot.tracker_store.RedactingSQLTrackerStore", name
