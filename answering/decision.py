"""The answering core's verdict for one turn, with the evidence behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from indexer.schema import Faq, Guide, Situation
from indexer.search import SearchHit, SearchResult

if TYPE_CHECKING:  # precheck renders with answering.render, which imports this module
    from answering.precheck import PreCheck
    from indexer.bundle_plan import BundlePlan


class Kind(str, Enum):
    answer = "answer"  # a guide's section (for a situation when one is known)
    ask_situation = "ask_situation"  # the guide's general answer plus 您是哪种情形？ buttons
    clarify = "clarify"  # two or three guides are close: 您是想问…？
    policy = "policy"  # an item of the city's plan
    out_of_scope = "out_of_scope"  # not a government-service question: refuse, point to 12345
    not_sure = "not_sure"  # nothing reliable: say so rather than guess
    bundle = "bundle"  # a life event (一件事): its steps in order, or one aspect of the whole
    precheck = "precheck"  # 预审: what the resident has against a guide's or a bundle's list
    bundle_list = "bundle_list"  # which life events can be done as one (一件事一次办有哪些)


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
    plan: BundlePlan | None = field(
        default=None, metadata={"doc": "the life event answered, or the one a step answer belongs to"}
    )
    precheck: PreCheck | None = None
    uncovered: str | None = field(
        default=None,
        metadata={"doc": "what the words ask to do that the guide does not cover (补办、抵押登记)"},
    )

    @property
    def corrections(self) -> tuple[tuple[str, str], ...]:
        return getattr(self.result, "corrections", ()) if self.result is not None else ()
