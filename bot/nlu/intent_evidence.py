"""When an intent's label must give way to the words: the rules behind bot.nlu.intent_guard,
kept free of Rasa so both environments (and plain tests) can use them."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)

SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge"})
ANSWER_INTENT = "inform"
_CONTENT = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
EXPLICIT_WORDS = {
    "complaint": re.compile(r"投诉|举报|差评|曝光|纠错|告状|反映.{0,6}(问题|情况)|不满意"),
    "request_human": re.compile(r"人工|真人|客服|工作人员|坐席|接线员|找个人|有人(吗|没|不|在)"),
}


def content_length(text: str) -> int:
    return len(_CONTENT.findall(text))


def service_terms(dictionary_file: Path) -> frozenset[str]:
    """Words that name a service: the index's guide links (names, aliases, synonyms)."""
    if not dictionary_file.exists():
        log.warning("intent guard: %s missing; only message length counts as evidence", dictionary_file)
        return frozenset()
    data = json.loads(dictionary_file.read_text(encoding="utf-8"))
    return frozenset(term for term in data.get("guide_links", {}) if len(term) >= 2)


class IntentEvidence:
    """Chat/yes-no labels stand only for short messages naming no service; complaint and
    request_human only when the words ask for them."""

    def __init__(self, terms: frozenset[str], max_small_talk_chars: int = 12) -> None:
        self.max_chars = max_small_talk_chars
        self.terms = sorted(terms, key=len, reverse=True)

    def overrules(self, intent: str, text: str) -> bool:
        if intent in SMALL_TALK:
            return content_length(text) > self.max_chars or self.names_service(text)
        if intent in EXPLICIT_WORDS:
            return not EXPLICIT_WORDS[intent].search(text)
        return False

    def names_service(self, text: str) -> bool:
        return any(term in text for term in self.terms)
