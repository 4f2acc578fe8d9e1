"""Retrieval-first routing inside Rasa's NLU: chat and yes/no intents, complaints and requests
for a person only win when the words really are that.

DIET reads "喂你好我想问下我奶奶今年85了有没有补贴" as greet and "那个年报逾期了麻烦得很咋个补报"
as complaint, which would greet the resident or file a ticket. This component runs after the
FallbackClassifier and re-labels such messages `inform`, so the answering action decides
from retrieval what to answer:
- greet/goodbye/thank/affirm/deny/bot_challenge stand only for short messages that name no
  service (a name, alias or synonym from the index's dictionary);
- a complaint that is really a question with no complaint word (烦死了，审批要多长时间) is
  answered; the complaint and handoff actions still ask before opening a ticket;
- check_status, book_appointment, cancel_appointment and request_agency start their forms only
  when the words ask for progress, an appointment or an errand done for them (公积金取得出来不
  is not a status query).

Loaded by Rasa in .venv-rasa: imports only Rasa and bot.nlu.intent_evidence (standard library).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_evidence import ANSWER_INTENT, IntentEvidence, service_terms


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class IntentGuard(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"dictionary_file": "var/index/dictionary.json", "max_small_talk_chars": 12}

    def __init__(self, config: dict[str, Any], terms: frozenset[str]) -> None:
        self.evidence = IntentEvidence(terms, int(config["max_small_talk_chars"]))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntentGuard:
        return cls(config, service_terms(Path(config["dictionary_file"])))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            text = message.get(TEXT) or ""
            promoted = self.evidence.promotes(intent, text) if intent else None
            if promoted:
                self._relabel(message, promoted, confidence=1.0)
            elif intent and self.evidence.overrules(intent, text):
                self._relabel(message, ANSWER_INTENT)
        return messages

    @staticmethod
    def _relabel(message: Message, intent: str, confidence: float | None = None) -> None:
        """``intent`` first in the ranking; the NLU's confidence is kept unless the words
        themselves decide (a tracking number asked about)."""
        previous = message.get(INTENT) or {}
        if confidence is None:
            confidence = float(previous.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        relabelled = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: confidence}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != intent]
        message.set(INTENT, relabelled, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [relabelled, *ranking], add_to_output=True)
