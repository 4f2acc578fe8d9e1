"""Builders of the ingester tests (imported by its conftest and its tests)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select

from core.settings import PROJECT_ROOT
from services.facade import Services
from services.models import AnalyticsTurn

sys.path.insert(0, str(Path(__file__).parents[2]))  # rasa_python

from rasa_python import run_in_rasa

RECORDED = Path(__file__).parent / "data" / "recorded_events.json"


def recorded_events() -> list[dict[str, Any]]:
    """Two residents' conversations as Rasa's SQL event broker published them (bot/event_broker.py,
    from `make run`'s stack; parse_data's rankings left out): a materials question, thanks and a
    rating, the weather, a booking started and two of its steps; a vague 补贴, two questions the
    assistant could not answer, a location question, an ID number, 转人工."""
    events: list[dict[str, Any]] = json.loads(RECORDED.read_text(encoding="utf-8"))
    return events


# Runs in .venv-rasa: the event broker an endpoints file configures, created as Rasa creates it
# (its `type: module.Class`), publishing the given events.
PUBLISH = """
import asyncio, json, sys
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import read_endpoint_config

endpoints, events_file = sys.argv[1:3]
events = json.loads(open(events_file, encoding="utf-8").read())

async def main():
    broker = await EventBroker.create(read_endpoint_config(endpoints, "event_broker"))
    for event in events:
        broker.publish(event)
    while getattr(broker, "_background_tasks", None):  # the Pika broker publishes in tasks
        await asyncio.sleep(0.05)
    await broker.close()
    return type(broker).__name__

print(json.dumps({"broker": asyncio.run(main())}))
"""


def publish_with_rasa(endpoints: Path, events: list[dict[str, Any]], directory: Path) -> str:
    """Publish ``events`` through the broker ``endpoints`` configures, in Rasa; its class name."""
    events_file = directory / f"events-{len(list(directory.glob('events-*.json')))}.json"
    events_file.write_text(json.dumps(events, ensure_ascii=False), encoding="utf-8")
    return str(run_in_rasa(PUBLISH, str(endpoints), str(events_file))["broker"])


def broker_endpoints(directory: Path, source: str, values: dict[str, str]) -> Path:
    """An endpoints file holding ``source``'s (endpoints.yml or endpoints.production.yml) event
    broker, with ``values`` for its settings or ``${VARIABLES}``."""
    section = yaml.safe_load((PROJECT_ROOT / source).read_text(encoding="utf-8"))["event_broker"]
    text = yaml.safe_dump({"event_broker": {**section, **values}}, allow_unicode=True)
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    path = directory / f"endpoints-{source}"
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(services: Services) -> list[tuple[Any, ...]]:
    """Every analytics turn as the dashboard reads it (all columns but the row id)."""
    with services.unit() as (session, _ctx):
        rows = session.scalars(select(AnalyticsTurn).order_by(AnalyticsTurn.turn_id)).all()
        return [
            (
                r.turn_id,
                r.sender,
                r.channel,
                r.at,
                r.text,
                r.intent,
                r.confidence,
                r.entities,
                r.guide_id,
                r.section,
                r.situation,
                r.kind,
                r.latency_ms,
                r.district,
            )
            for r in rows
        ]


def clear_turns(services: Services) -> None:
    with services.unit() as (session, _ctx):
        session.execute(delete(AnalyticsTurn))
