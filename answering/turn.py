"""What the answering core knows about one turn: the words and the conversation so far."""

from __future__ import annotations

from dataclasses import dataclass

# Intents whose name says which part of a guide is asked for.
ASPECT_OF_INTENT = {
    "ask_materials": "materials",
    "ask_eligibility": "conditions",
    "ask_process": "process",
    "ask_fee": "fees",
    "ask_time_limit": "time_limit",
    "ask_location": "location",
}


@dataclass(frozen=True)
class Turn:
    """One message plus the context a follow-up may lean on.

    ``services`` are service names the NLU extracted (or a tapped button carried);
    ``remembered_*`` come from the conversation's slots."""

    text: str
    intent: str | None = None
    confidence: float = 0.0
    services: tuple[str, ...] = ()
    situation: str | None = None
    remembered_service: str | None = None
    remembered_situation: str | None = None
    remembered_bundle: str | None = None  # the 一件事 the conversation is about (bundle id)
    full: bool = False  # the whole section was asked for (全部材料), not the phone-sized essentials

    @property
    def asked_aspect(self) -> str | None:
        return ASPECT_OF_INTENT.get(self.intent or "")

    @property
    def is_payload(self) -> bool:
        """A tapped button (/intent{...}) carries its own service; its text is not a question."""
        return self.text.startswith("/")
