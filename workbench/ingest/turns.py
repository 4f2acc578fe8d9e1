"""Rasa's events → one fact per resident message (the pure part of the ingester: no I/O).

A turn starts at a ``user`` event (its ``message_id`` is the turn id the gateway gave it) and
takes every event of the same conversation up to the next ``user`` event: the bot's replies, the
actions that ran. What the assistant did (the turn's ``kind``) is read from the custom payloads
the answering core and the actions send, and from the actions that ran:

======================================  ==============
payload type / event                    kind
======================================  ==============
handoff                                 handoff
out_of_scope                            out_of_scope
unanswered; action_default_fallback,    fallback
action_two_stage_fallback ran;
intent nlu_fallback
clarify                                 clarified
guide_card, bundle_card, precheck,      answered
policy, eligibility_verdict
application_status, complaint_status,
agency_status
booking, complaint, agency; a form      form_step
action ran
(the message started a form or filled
one of its slots)
anything else (greetings, ratings …)    other
======================================  ==============

A turn with several signs takes the one listed first (strongest): a handoff is what the resident
got, whatever else was said; a low-confidence message stays a fallback even when retrieval still
found an answer for it (the NLU did not understand it: the unanswered inbox wants it), and a
verdict at the end of a form is an answer, not a form step. Kinds, like every other part of
an outcome, only ever merge towards the stronger or the earlier value, so merging the same events
twice — a replay, or a reply that arrives in a later batch than its question — gives the same
turn (services.analytics_store.TurnOutcome.merge).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from services.analytics_store import LateOutcome, TurnFact
from services.analytics_store import TurnOutcome as Outcome
from services.models import TurnKind
from workbench.ingest.places import Places

Event = Mapping[str, Any]

FALLBACK_ACTIONS = frozenset({"action_default_fallback", "action_two_stage_fallback"})
FALLBACK_INTENT = "nlu_fallback"
# The domain names every form *_form (domain.yml forms); Rasa logs a form's step as its action.
FORM_SUFFIX = "_form"
PAYLOAD_KINDS = {
    "handoff": TurnKind.handoff,
    "out_of_scope": TurnKind.out_of_scope,
    "unanswered": TurnKind.fallback,
    "clarify": TurnKind.clarified,
    "guide_card": TurnKind.answered,
    "bundle_card": TurnKind.answered,
    "precheck": TurnKind.answered,
    "bundle_list": TurnKind.answered,
    "policy": TurnKind.answered,
    "eligibility_verdict": TurnKind.answered,
    "application_status": TurnKind.answered,
    "complaint_status": TurnKind.answered,
    "agency_status": TurnKind.answered,
    "booking": TurnKind.form_step,
    "complaint": TurnKind.form_step,
    "agency": TurnKind.form_step,
}
CHANNEL_CHARS = 16
# Answers to a form's questions (names, ID tails, addresses, dates): the gateway's turn log leaves
# their words out too (channels/turns.py UNLOGGED_INTENTS). Decided from the message alone, so a
# batch boundary anywhere in the turn cannot change it.
WORDS_NOT_KEPT = frozenset({"inform"})


class _Replies:
    """The events after one question (or before a batch's first one): their merged outcome."""

    def __init__(self) -> None:
        self.outcome = Outcome()
        self.first_at: dt.datetime | None = None  # of the first event that says anything

    def add(self, observed: Outcome, at: dt.datetime | None) -> None:
        self.outcome = self.outcome.merge(observed)
        if observed.said_anything and self.first_at is None:
            self.first_at = at


@dataclass(frozen=True)
class Assembly:
    turns: list[TurnFact]
    late: list[LateOutcome]


class TurnAssembler:
    """Turns a batch of broker events (any senders, in publication order) into turn facts.

    ``mask`` makes words fit to store (services.log_privacy.log_text), ``pseudonym`` names the
    sender (services.log_privacy.pseudonym); ``guide_ids`` maps service names to guide ids
    (a verdict names its service, not its guide).
    """

    def __init__(
        self,
        *,
        pseudonym: Callable[[str], str],
        mask: Callable[[str], str],
        timezone: str,
        places: Places,
        guide_ids: Mapping[str, str],
    ) -> None:
        self._pseudonym = pseudonym
        self._mask = mask
        self._zone = ZoneInfo(timezone)
        self._places = places
        self._guide_ids = guide_ids

    def assemble(self, events: Iterable[Event]) -> Assembly:
        by_sender: dict[str, list[Event]] = {}
        for event in events:
            sender = event.get("sender_id")
            if isinstance(sender, str) and sender:
                by_sender.setdefault(sender, []).append(event)
        turns: list[TurnFact] = []
        late: list[LateOutcome] = []
        for sender, stream in by_sender.items():
            self._assemble_sender(self._pseudonym(sender), stream, turns, late)
        return Assembly(turns, late)

    def _assemble_sender(
        self, sender: str, stream: list[Event], turns: list[TurnFact], late: list[LateOutcome]
    ) -> None:
        question: TurnFact | None = None
        replies = _Replies()  # to ``question``, or before this batch's first one from the sender
        for event in stream:
            if event.get("event") == "user":
                self._close(sender, question, replies, turns, late)
                question, replies = self._user_turn(sender, event), _Replies()
            else:
                replies.add(self._observe(event), self._local(event.get("timestamp")))
        self._close(sender, question, replies, turns, late)

    @staticmethod
    def _close(
        sender: str,
        question: TurnFact | None,
        replies: _Replies,
        turns: list[TurnFact],
        late: list[LateOutcome],
    ) -> None:
        outcome = replies.outcome
        if question is not None:
            turns.append(replace(question, outcome=question.outcome.merge(outcome)))
        elif outcome.said_anything and replies.first_at is not None:
            late.append(LateOutcome(sender, replies.first_at, outcome))

    def _user_turn(self, sender: str, event: Event) -> TurnFact:
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        name = intent.get("name")
        confidence = intent.get("confidence")
        text = self._mask(str(event.get("text") or ""))
        district = self._places.in_words(text)
        if name in WORDS_NOT_KEPT:
            text = ""
        entities = [
            {
                "entity": str(e.get("entity")),
                "value": "" if name in WORDS_NOT_KEPT else self._mask(str(e.get("value"))),
            }
            for e in parse.get("entities") or []
            if isinstance(e, Mapping) and e.get("entity")
        ]
        return TurnFact(
            turn_id=str(event.get("message_id") or ""),
            sender=sender,
            channel=self._channel(event),
            at=self._local(event.get("timestamp")) or dt.datetime.min,
            text=text,
            intent=str(name) if name else None,
            confidence=float(confidence) if isinstance(confidence, int | float) else None,
            entities=entities,
            district=district,
            outcome=Outcome(kind=TurnKind.fallback if name == FALLBACK_INTENT else TurnKind.other),
        )

    def _observe(self, event: Event) -> Outcome:
        kind = event.get("event")
        if kind == "action":
            name = str(event.get("name") or "")
            if name in FALLBACK_ACTIONS:
                return Outcome(kind=TurnKind.fallback)
            if name.endswith(FORM_SUFFIX):
                return Outcome(kind=TurnKind.form_step)
            return Outcome()
        if kind != "bot":
            return Outcome()
        replied_at = self._local(event.get("timestamp"))
        custom = (event.get("data") or {}).get("custom")
        if not isinstance(custom, Mapping):
            return Outcome(replied_at=replied_at)
        return self._payload_outcome(custom, replied_at)

    def _payload_outcome(self, custom: Mapping[str, Any], replied_at: dt.datetime | None) -> Outcome:
        payload_type = str(custom.get("type") or "")
        guide_id = custom.get("guide_id")
        if guide_id is None and custom.get("service"):
            guide_id = self._guide_ids.get(str(custom["service"]))
        section = custom.get("section")
        if payload_type == "eligibility_verdict":
            section = "conditions"
        hall = custom.get("hall") if payload_type == "booking" else None
        return Outcome(
            kind=PAYLOAD_KINDS.get(payload_type, TurnKind.other),
            guide_id=str(guide_id) if guide_id else None,
            section=str(section) if section else None,
            situation=str(custom["situation"]) if custom.get("situation") else None,
            district=self._places.of_hall(str(hall)) if hall else None,
            replied_at=replied_at,
        )

    def _channel(self, event: Event) -> str:
        metadata = event.get("metadata") or (event.get("parse_data") or {}).get("metadata") or {}
        channel = metadata.get("channel") if isinstance(metadata, Mapping) else None
        return str(channel or event.get("input_channel") or "unknown")[:CHANNEL_CHARS]

    def _local(self, timestamp: Any) -> dt.datetime | None:
        if not isinstance(timestamp, int | float):
            return None
        return dt.datetime.fromtimestamp(timestamp, self._zone).replace(tzinfo=None)
