"""What 知识 staff do with one group of the inbox; each marks the group's turns reviewed (audited
under the signed-in login) after its edit is written, so a refused edit leaves the group in place.

- alias / FAQ: edit the guide's YAML (workbench/guide_edits.py); live after 发布 (workbench/publish.py)
- intent: the group's wordings become examples of that intent for the next training
- out of scope, dismiss: only recorded
"""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Settings
from services.analytics_inbox import InboxTurn
from services.errors import Conflict, InvalidInput
from services.facade import Services
from services.models import ReviewOutcome
from workbench import guide_edits, nlu_labels

MAX_GROUP_TURNS = 1000
ALREADY_REVIEWED = "这组问题已经处理过了（可能是同事刚处理），请刷新收件箱。"


@dataclass(frozen=True)
class Reviewed:
    outcome: ReviewOutcome
    turns: int
    message: str  # the confirmation staff read


def attach_alias(
    services: Services, settings: Settings, turn_ids: list[str], guide_id: str, alias: str, *, actor: str
) -> Reviewed:
    _pending(services, settings, turn_ids)
    edit = guide_edits.add_alias(settings.knowledge, guide_id, alias)
    count = services.review_inbox(
        turn_ids, ReviewOutcome.alias, detail=f"{guide_id}: {edit.value}", actor=actor
    )
    return Reviewed(
        ReviewOutcome.alias, count, f"已把“{edit.value}”加为《{edit.guide_name}》的别名；点“发布”后生效。"
    )


def attach_faq(
    services: Services,
    settings: Settings,
    turn_ids: list[str],
    guide_id: str,
    question: str,
    answer: str,
    *,
    actor: str,
) -> Reviewed:
    _pending(services, settings, turn_ids)
    edit = guide_edits.add_faq(settings.knowledge, guide_id, question, answer)
    count = services.review_inbox(
        turn_ids, ReviewOutcome.faq, detail=f"{guide_id}: {edit.value}", actor=actor
    )
    return Reviewed(
        ReviewOutcome.faq, count, f"已在《{edit.guide_name}》加入常见问题“{edit.value}”；点“发布”后生效。"
    )


def label_intent(
    services: Services, settings: Settings, turn_ids: list[str], intent: str, *, actor: str
) -> Reviewed:
    """The group's own (masked) wordings, not text from the request, become the examples."""
    turns = _pending(services, settings, turn_ids)
    labelled = nlu_labels.label_examples(
        settings.workbench.annotated_nlu_file, intent, [turn.text for turn in turns]
    )
    count = services.review_inbox(
        [turn.turn_id for turn in turns], ReviewOutcome.intent, detail=intent, actor=actor
    )
    skipped = f"，{len(labelled.already_known)} 条训练数据里已有" if labelled.already_known else ""
    return Reviewed(
        ReviewOutcome.intent,
        count,
        f"已把 {len(labelled.added)} 条问法标注为意图 {intent}{skipped}；下次训练时生效。",
    )


def mark_out_of_scope(services: Services, settings: Settings, turn_ids: list[str], *, actor: str) -> Reviewed:
    _pending(services, settings, turn_ids)
    count = services.review_inbox(turn_ids, ReviewOutcome.out_of_scope, detail=None, actor=actor)
    return Reviewed(ReviewOutcome.out_of_scope, count, f"已将 {count} 条问题标为不属于政务服务。")


def dismiss(services: Services, settings: Settings, turn_ids: list[str], *, actor: str) -> Reviewed:
    _pending(services, settings, turn_ids)
    count = services.review_inbox(turn_ids, ReviewOutcome.dismissed, detail=None, actor=actor)
    return Reviewed(ReviewOutcome.dismissed, count, f"已忽略 {count} 条问题。")


def _pending(services: Services, settings: Settings, turn_ids: list[str]) -> list[InboxTurn]:
    """The group's turns still waiting for review; refused when none is (a second click)."""
    ids = list(dict.fromkeys(turn_ids))
    if not ids:
        raise InvalidInput("请选择要处理的问题。", field="turn_ids")
    if len(ids) > MAX_GROUP_TURNS:
        raise InvalidInput(f"一次最多处理{MAX_GROUP_TURNS}条问题。", field="turn_ids")
    cfg = settings.workbench
    turns = services.inbox_candidates(
        low_confidence=cfg.low_confidence, low_rating=cfg.low_rating, limit=len(ids), turn_ids=ids
    )
    if not turns:
        raise Conflict(ALREADY_REVIEWED)
    return turns
