"""The answering core's verdict for one turn, with the evidence behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from indexer.schema import Faq, Guide, Situation
from indexer.search import SearchHit, SearchResult


class Kind(str, Enum):
    answer = "answer"  # a guide's section (for a situation when one is known)
    ask_situation = "ask_situation"  # the guide's general answer plus 您是哪种情形？ buttons
    clarify = "clarify"  # two or three guides are close: 您是想问…？
    policy = "policy"  # an item of the city's plan
    out_of_scope = "out_of_scope"  # not a government-service question: refuse, point to 12345
    not_sure = "not_sure"  # nothing reliable: say so rather than guess


@dataclass(frozen=True)
class Decision:
    kind: Kind
    evidence: str
    guide: Guide | None = None
    aspect: str = "overview"
    situation: Situation | None = None
    situation_recognised: bool = field(
        default=False, metadata={"doc": "the situation was read from the words, so say which one we took"}
    )
    situation_said_before: bool = field(
        default=False, metadata={"doc": "remembered: the resident read its guidance in an earlier answer"}
    )
    faq: Faq | None = field(default=None, metadata={"doc": "the guide's FAQ that answers the question"})
    full: bool = field(default=False, metadata={"doc": "answer with the whole section, not the essentials"})
    options: tuple[Guide, ...] = ()
    policy: SearchHit | None = None
    result: SearchResult | None = None

    @property
    def corrections(self) -> tuple[tuple[str, str], ...]:
        return getattr(self.result, "corrections", ()) if self.result is not None else ()
