"""channels/rasa_connector.py inside Rasa (.venv-rasa): what a turn reports to the gateway's log."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))  # rasa_python, whatever pytest's import mode
from rasa_python import run_in_rasa

# Runs in .venv-rasa: three conversations as Rasa records them, and what latest_turn reads.
SCRIPT = """
import json
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered, UserUtteranceReverted
from rasa.shared.core.trackers import DialogueStateTracker
from channels.rasa_connector import latest_turn

def said(text, intent, confidence):
    return UserUttered(text, {"name": intent, "confidence": confidence})

listen = ActionExecuted("action_listen")
answered = [said("低保要带哪些材料", "ask_materials", 0.97), SlotSet("service", "dibao"),
            ActionExecuted("action_answer_service_question"), BotUttered("……"), listen]
nlu_fallback = answered + [said("嗯嗯那个啥", "nlu_fallback", 0.41),
                           ActionExecuted("action_default_fallback"), BotUttered("没有把握"), listen]
reverted = answered + [said("咦", "affirm", 0.55), ActionExecuted("action_default_fallback"),
                       UserUtteranceReverted(), listen]
turns = {}
for name, events in {"answered": answered, "nlu_fallback": nlu_fallback, "reverted": reverted}.items():
    turns[name] = latest_turn(DialogueStateTracker.from_events("web:t", events, slots=[]))
turns["no_tracker"] = latest_turn(None)
print(json.dumps(turns))
"""


@pytest.fixture(scope="module")
def turns() -> dict:
    return dict(run_in_rasa(SCRIPT))


def test_an_answered_turn_reports_its_intent_and_service(turns: dict) -> None:
    assert turns["answered"]["intent"] == "ask_materials"
    assert turns["answered"]["confidence"] == pytest.approx(0.97)
    assert turns["answered"]["fallback"] is False


def test_a_fallback_turn_reports_the_fallback_not_the_previous_question(turns: dict) -> None:
    assert turns["nlu_fallback"]["intent"] == "nlu_fallback"
    assert turns["nlu_fallback"]["fallback"] is True
    # A reverted message: the tracker's latest_message would say ask_materials again.
    assert turns["reverted"]["intent"] == "affirm"
    assert turns["reverted"]["fallback"] is True


def test_no_tracker_reports_nothing(turns: dict) -> None:
    assert turns["no_tracker"] == {"intent": None, "confidence": None, "service": None, "fallback": False}
