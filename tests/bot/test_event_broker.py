"""bot/event_broker.py inside Rasa (.venv-rasa), created from endpoints.yml as Rasa creates it:
what the SQL event broker writes holds no whole 身份证号 or mobile number, while the ids the
analytics join on (the conversation and the message id) are written as they are."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parents[1]))  # rasa_python, whatever pytest's import mode
from rasa_python import run_in_rasa

from core.settings import PROJECT_ROOT

ID_NUMBER = "520302194503010024"
PHONE = "15885211234"
SENDER = "web:13800000000abc"  # digits in an id are no phone number
MESSAGE_ID = "a13912345678b0c"

# Runs in .venv-rasa: a resident's message, the bot repeating it and a slot, through the broker.
SCRIPT = """
import asyncio, json, sys
from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.utils.endpoints import read_endpoint_config

endpoints, sender, message_id, id_number, phone = sys.argv[1:6]
text = f"身份证{id_number}，电话{phone}"
parse = {"intent": {"name": "inform", "confidence": 0.9}, "text": text,
         "entities": [{"entity": "phone", "value": phone, "start": 0, "end": 11}]}
events = [
    UserUttered(text, parse["intent"], parse["entities"], parse, message_id=message_id),
    BotUttered(f"您的电话是{phone}吗？", {"custom": {"type": "confirm", "phone": phone}}),
    SlotSet("booking_id_number", id_number),
]

async def main():
    broker = await EventBroker.create(read_endpoint_config(endpoints, "event_broker"))
    for event in events:
        broker.publish({"sender_id": sender, **event.as_dict()})
    await broker.close()
    return type(broker).__name__

print(json.dumps({"broker": asyncio.run(main())}))
"""


def test_the_sql_event_broker_writes_numbers_masked(tmp_path: Path) -> None:
    section = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8"))["event_broker"]
    db = tmp_path / "events.db"
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump({"event_broker": {**section, "db": str(db)}}), encoding="utf-8")

    result = run_in_rasa(SCRIPT, str(endpoints), SENDER, MESSAGE_ID, ID_NUMBER, PHONE)

    assert result["broker"] == "RedactingSQLEventBroker"
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT sender_id, data FROM events ORDER BY id").fetchall()
    assert len(rows) == 3
    written = "\n".join(data for _, data in rows)
    assert ID_NUMBER not in written and PHONE not in written
    user, bot, slot = (json.loads(data) for _, data in rows)
    assert user["text"] == "身份证520302********0024，电话158****1234"
    assert user["parse_data"]["entities"][0]["value"] == "158****1234"
    assert bot["data"]["custom"]["phone"] == "158****1234"
    assert slot["value"] == "520302********0024"
    assert {sender for sender, _ in rows} == {SENDER} and user["sender_id"] == SENDER
    assert user["message_id"] == MESSAGE_ID
