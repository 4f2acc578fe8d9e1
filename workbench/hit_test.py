"""命中测试: one question as staff tuning the dictionary and synonyms need to see it — the text as
retrieval reads it, each document's BM25 / dense / hybrid rank and score, and what the answering
core would do with it as a conversation's first message, with the reply residents would read."""

from __future__ import annotations

from dataclasses import dataclass, field

from answering.core import decide
from answering.decision import Decision, Kind
from answering.render import render
from answering.turn import Turn
from core.settings import Settings
from indexer.api import get_guide, get_searcher
from indexer.chunks import SECTION_LABELS
from indexer.explain import Explanation, explain

KIND_LABELS = {
    Kind.answer: "回答",
    Kind.ask_situation: "回答并请居民选择情形",
    Kind.clarify: "请居民在几个事项中选择",
    Kind.policy: "引用政策条款",
    Kind.out_of_scope: "不属于政务服务，礼貌拒答",
    Kind.not_sure: "没有把握，如实告知",
    Kind.bundle: "回答一件事（各步骤与合并材料清单）",
    Kind.precheck: "材料预审（还缺什么）",
    Kind.bundle_list: "列出可以一件事一次办的事",
}
EVIDENCE_LABELS = {
    "named": "问题里点名了事项（名称、别名、同义词或识别出的实体）",
    "remembered": "沿用对话中的事项",
    "retrieval": "检索有把握",
    "policy_topic": "问的是办事政策（跑几次、容缺、代办…）",
    "ambiguous": "前两个事项得分太接近",
    "weak": "相似度未达回答阈值，但达到澄清下限",
    "no_hits": "没有检索结果",
    "not_confident": "检索没有把握",
    "nlu:out_of_scope": "与政务服务无关",
    "bundle": "问的是一件事（点名或检索到一件事，且问整件事要办什么）",
    "bundle_step": "追问对话中一件事的第N步",
    "bundle_followup": "沿用对话中的一件事",
    "precheck": "说了手上有或缺哪些材料",
    "bundle_list": "问有哪些一件事",
    "precheck_needs_subject": "说了手上的材料，但没说办哪个事项",
    "bundle_of_options": "几个相近事项同属一件事，问的是先后或整件事",
}


@dataclass(frozen=True)
class Check:
    """One threshold the decision depends on, for the top document."""

    label: str
    value: float | None
    threshold: float
    passed: bool


@dataclass(frozen=True)
class DecisionSummary:
    kind: str
    kind_label: str
    evidence: str
    evidence_label: str
    confident: bool
    reason: str | None
    guide_id: str | None = None
    guide_name: str | None = None
    section: str | None = None
    section_label: str | None = None
    situation: str | None = None
    faq_question: str | None = None
    policy_title: str | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class HitTest:
    explanation: Explanation
    linked_names: tuple[str, ...]  # the guides the words name, by name
    asked_section_label: str | None  # 申请材料 for "materials"
    decision: DecisionSummary
    checks: tuple[Check, ...]
    reply: str
    buttons: tuple[str, ...] = field(default_factory=tuple)


def hit_test(
    text: str,
    settings: Settings,
    *,
    intent: str | None = None,
    confidence: float = 0.0,
    services: tuple[str, ...] = (),
    k: int = 10,
) -> HitTest:
    """Blocking (encodes the question): call it off the event loop. ``intent``, ``confidence`` and
    ``services`` are Rasa's reading of the words when the caller has one. Raises ``QueryError``
    for an empty question."""
    explanation = explain(get_searcher(), text, k)
    turn = Turn(text=text, intent=intent, confidence=confidence, services=services)
    decision = decide(turn, settings.answering)
    reply = render(decision)
    return HitTest(
        explanation=explanation,
        linked_names=tuple(
            guide.name if (guide := get_guide(gid)) else gid for gid in explanation.linked_guides
        ),
        asked_section_label=SECTION_LABELS.get(explanation.asked_section or "", explanation.asked_section),
        decision=_summary(decision),
        checks=_checks(explanation, settings),
        reply=reply.text,
        buttons=tuple(button.get("title", "") for button in reply.buttons),
    )


def _summary(decision: Decision) -> DecisionSummary:
    result = decision.result
    guide = decision.guide
    aspect = decision.aspect if guide is not None else None
    return DecisionSummary(
        kind=decision.kind.value,
        kind_label=KIND_LABELS[decision.kind],
        evidence=decision.evidence,
        evidence_label=EVIDENCE_LABELS.get(decision.evidence, decision.evidence),
        confident=bool(result and result.confident),
        reason=result.reason if result is not None else None,
        guide_id=guide.id if guide else None,
        guide_name=guide.name if guide else None,
        section=aspect,
        section_label=("常见问题" if aspect == "faq" else SECTION_LABELS.get(aspect, aspect))
        if aspect
        else None,
        situation=decision.situation.name if decision.situation else None,
        faq_question=decision.faq.q if decision.faq else None,
        policy_title=decision.policy.title if decision.policy else None,
        options=tuple(option.name for option in decision.options),
    )


def _checks(explanation: Explanation, settings: Settings) -> tuple[Check, ...]:
    """The top document's scores against the thresholds that turn them into a decision."""
    hits = explanation.result.hits
    top = hits[0] if hits else None
    cfg = settings.answering

    def check(label: str, value: float | None, threshold: float) -> Check:
        return Check(label, value, threshold, value is not None and value >= threshold)

    checks = [
        check("稠密相似度（回答阈值）", top.dense_score if top else None, explanation.min_dense_score),
        check("稠密相似度（澄清下限）", top.dense_score if top else None, cfg.clarify_min_dense_score),
        check("情形相似度", top.situation_score if top else None, cfg.situation_min_score),
        check("常见问题相似度", top.faq_score if top else None, cfg.faq_min_dense_score),
    ]
    if len(hits) > 1 and top is not None:
        ratio = hits[1].score / top.score if top.score else None
        checks.append(
            Check(
                "第二名与第一名得分比（过近则请居民选择）",
                ratio,
                cfg.ambiguity_ratio,
                ratio is not None and ratio < cfg.ambiguity_ratio,
            )
        )
    return tuple(checks)
