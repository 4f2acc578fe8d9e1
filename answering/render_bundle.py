"""Replies for a life event (一件事) and for a pre-check: phone-sized text, buttons, and the card
channels draw (the widget's step timeline and checklist; WeChat numbers the buttons)."""

from __future__ import annotations

import re
from typing import Any

from answering.decision import Decision, Kind
from answering.precheck import PreCheck, Verdict, plan_source, render_precheck
from answering.render import AGENCY_BUTTON, Reply, guide_source, where_to_apply
from indexer.api import list_bundles
from indexer.bundle_materials import MergedMaterial
from indexer.bundle_plan import BundlePlan, PlannedStep
from indexer.schema import Guide
from indexer.text import without_brackets

WHERE_CHARS = 18  # a step's place, cut to fit one phone line
STEP_TITLE_CHARS = 12  # a step's button title after 第N步
LEAD_CHARS = 30  # an event's lead in the list of events
ESSENTIAL_MATERIALS = 12  # lines shown before 另有N项 unless the whole list was asked for
# Where a guide's place of application stops naming the place (…窗口受理并审核; …或合作银行网点).
_PLACE_END = re.compile(r"受理|办理|签发|审核|提交")
# YAML folded text leaves a space where a line broke between two Chinese words.
_FOLD_SPACE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u9fff\uff00-\uffef])")


def unfolded(text: str) -> str:
    return _FOLD_SPACE.sub("", text)


def _plain(text: str, limit: int) -> str:
    """Without bracketed asides, cut to ``limit`` characters: one phone line."""
    text = without_brackets(text).split("；")[0].strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _days(step: PlannedStep) -> str:
    return "即办" if step.days == 0 else f"{step.days}个工作日"


def _where(guide: Guide) -> str:
    """The place in a few words: 乡镇便民服务中心卫生健康窗口, or the first of several places."""
    place = _PLACE_END.split(without_brackets(where_to_apply(guide)))[0]
    first, *others = place.split("或")
    return _plain(f"{first}等" if others and first else place, WHERE_CHARS)


def _step_line(step: PlannedStep) -> str:
    online = "，可全程网办" if step.fully_online else ""
    when = f"（按需：{_plain(step.step.when, WHERE_CHARS)}）" if step.step.when else ""
    title = _plain(step.step.title, WHERE_CHARS)
    return f"{step.number}. {title}：{_where(step.guide)}，{_days(step)}{online}{when}"


def _parallel_lines(plan: BundlePlan) -> list[str]:
    return [f"第{'、'.join(map(str, stage))}步可以同时办" for stage in plan.stages if len(stage) > 1]


def _material_line(material: MergedMaterial) -> str:
    copies = f"{material.copies}份" if material.copies else ""
    used = [n for n in material.steps if n != material.obtained_from]
    parts = [f"{material.form.value}{copies}"]
    if material.obtained_from is not None:
        parts.append(f"由第{material.obtained_from}步办出，不用自己准备")
    if used:
        parts.append(f"第{'、'.join(map(str, used))}步用")
    elif material.e_license:
        parts.append("窗口调取电子证照，不用带")
    if material.deferrable:
        parts.append("可容缺后补")
    if not material.required and material.conditions:
        parts.append(f"{material.conditions[0].removesuffix('的').removesuffix('时')}时提供")
    return f"{material.name}（{'，'.join(parts)}）"


def _summary(plan: BundlePlan) -> str:
    online = f"，{len(plan.online_steps)}步可全程网办" if plan.online_steps else ""
    days = (
        "都能当场办结"
        if plan.total_days == 0
        else f"承诺时限合计约{plan.total_days}个工作日（同时办的已并算）"
    )
    return f"共{len(plan.steps)}步，{days}，最多跑{plan.hall_visits}次大厅{online}。"


def _choice_lines(plan: BundlePlan) -> list[str]:
    """任选其一 steps: which one the list shows and what replaces it for the other choice."""
    lines = []
    for left_id in plan.left_out:
        left = next(s for s in plan.bundle.steps if s.id == left_id)
        shown = next((p for p in plan.steps if left.choice and p.step.choice == left.choice), None)
        if shown is not None:
            lines.append(
                f"（{left.choice}二选一：上面按“{shown.step.title}”列出；选“{left.title}”的，"
                f"第{shown.number}步换成它）"
            )
    return lines


def _steps_text(plan: BundlePlan) -> str:
    bring = sum(1 for m in plan.materials if m.required and m.to_bring)
    optional = sum(1 for m in plan.materials if not m.required)
    besides = f"，另有{optional}项按情况提供" if optional else ""
    lines = [
        f"「{plan.bundle.name}」一次办：{unfolded(plan.bundle.lead)}",
        _summary(plan),
        *(_step_line(step) for step in plan.steps),
        *_choice_lines(plan),
        *_parallel_lines(plan),
        f"材料合并成一张清单：要自己准备的必备材料{bring}项{besides}，同一份材料只准备一次（问“要带哪些材料”）。",
        "说“第N步”看某一步怎么办；说“我有身份证和户口本”帮您预审还缺什么。",
    ]
    return "\n".join(lines)


def _materials_text(plan: BundlePlan, full: bool) -> str:
    required = [m for m in plan.materials if m.required]
    optional = [m for m in plan.materials if not m.required]
    shown = required if full or len(required) <= ESSENTIAL_MATERIALS else required[:ESSENTIAL_MATERIALS]
    lines = [f"「{plan.bundle.name}」合并材料清单（同一份材料只准备一次）："]
    lines += [f"{n}. {_material_line(m)}" for n, m in enumerate(shown, 1)]
    if full:
        lines += [f"{n}. {_material_line(m)}" for n, m in enumerate(optional, len(shown) + 1)]
    else:
        more = len(required) - len(shown) + len(optional)
        if more:
            lines.append(f"另有{more}项按情况提供（说“全部材料”看完整清单）。")
    return "\n".join(lines)


def _time_text(plan: BundlePlan) -> str:
    lines = [f"「{plan.bundle.name}」{_summary(plan)}"]
    lines += [
        f"{s.number}. {s.step.title}：{_days(s)}"
        + (f"（等第{'、'.join(map(str, s.after))}步办完）" if s.after else "")
        for s in plan.steps
    ]
    return "\n".join(lines)


def _place_text(plan: BundlePlan) -> str:
    lines = [f"「{plan.bundle.name}」各步在哪办："]
    lines += [
        f"{s.number}. {s.step.title}：{where_to_apply(s.guide)}"
        + ("（可全程网办）" if s.fully_online else "")
        for s in plan.steps
    ]
    return "\n".join(lines)


def _fee_text(plan: BundlePlan) -> str:
    lines = [f"「{plan.bundle.name}」各步收费："]
    lines += [f"{s.number}. {s.step.title}：{_fee(s.guide)}" for s in plan.steps]
    return "\n".join(lines)


def _fee(guide: Guide) -> str:
    """The guide's own fee wording: 办理不收费；参保需缴纳个人保费400元/年 says both."""
    standard = guide.fees.standard.strip()
    if guide.fees.charged:
        return f"收费，{standard}"
    return standard if standard.startswith(("不收费", "免费", "办理不收费")) else f"不收费（{standard}）"


def bundle_text(plan: BundlePlan, aspect: str, full: bool = False) -> str:
    if aspect == "materials":
        return _materials_text(plan, full)
    if aspect == "time_limit":
        return _time_text(plan)
    if aspect == "location":
        return _place_text(plan)
    if aspect in ("fees", "benefits"):
        return _fee_text(plan)
    return _steps_text(plan)


def bundle_sources(plan: BundlePlan) -> list[dict[str, Any]]:
    bundle = plan.bundle
    own = {
        "title": bundle.name,
        "section": "一件事",
        "department": "遵义市政务服务中心",
        "updated": bundle.updated.isoformat(),
        "notice": bundle.sample_notice,
        "url": None,
    }
    return [own, *(guide_source(step.guide) for step in plan.steps)]


def bundle_card(plan: BundlePlan, aspect: str) -> dict[str, Any]:
    """Everything the widget's timeline and checklist need, and WeChat's numbered steps."""
    return {
        "type": "bundle_card",
        "bundle_id": plan.bundle.id,
        "name": plan.bundle.name,
        "section": aspect,
        "lead": unfolded(plan.bundle.lead),
        "total_days": plan.total_days,
        "hall_visits": plan.hall_visits,
        "steps": [
            {
                "number": s.number,
                "title": s.step.title,
                "service": s.guide.name,
                "guide_id": s.guide.id,
                "where": where_to_apply(s.guide),
                "days": s.days,
                "fully_online": s.fully_online,
                "after": list(s.after),
                "parallel_with": list(s.parallel_with),
                "when": s.step.when,
                "critical": s.critical,
            }
            for s in plan.steps
        ],
        "materials": [
            {
                "name": m.name,
                "form": m.form.value,
                "copies": m.copies,
                "required": m.required,
                "steps": list(m.steps),
                "e_license": m.e_license,
                "deferrable": m.deferrable,
                "obtained_from": m.obtained_from,
                "to_bring": m.to_bring,
                "condition": m.conditions[0] if m.conditions else None,
            }
            for m in plan.materials
        ],
        "notes": [unfolded(note) for note in plan.bundle.notes],
        "sources": bundle_sources(plan),
    }


def _first_hall_step(plan: BundlePlan) -> PlannedStep | None:
    return next((s for s in plan.steps if not s.fully_online), None)


def bundle_buttons(plan: BundlePlan) -> list[dict[str, str]]:
    """One button per step first (WeChat: 回复 N 看第N步), then the next things to do."""
    buttons = [
        {
            "title": f"第{s.number}步 {_plain(s.step.title, STEP_TITLE_CHARS)}",
            "payload": f'/ask_process{{"service": "{s.guide.name}"}}',
        }
        for s in plan.steps
    ]
    checkable = next((s for s in plan.steps if s.guide.eligibility_rules), None)
    if checkable is not None:
        buttons.append(
            {"title": "我符合条件吗", "payload": f'/ask_eligibility{{"service": "{checkable.guide.name}"}}'}
        )
    first = _first_hall_step(plan)
    if first is not None:
        buttons.append(
            {
                "title": f"预约第{first.number}步",
                "payload": f'/book_appointment{{"service": "{first.guide.name}"}}',
            }
        )
    buttons.append(AGENCY_BUTTON)
    return buttons


def render_bundle_answer(decision: Decision) -> Reply:
    plan = decision.plan
    assert plan is not None, "a bundle answer needs its plan"
    text = f"{bundle_text(plan, decision.aspect, decision.full)}\n{plan_source(plan)}"
    return Reply(text=text, buttons=bundle_buttons(plan), payload=bundle_card(plan, decision.aspect))


def precheck_card(result: PreCheck, subject_id: str, kind: str) -> dict[str, Any]:
    return {
        "type": "precheck",
        "subject": result.subject,
        "subject_id": subject_id,
        "subject_kind": kind,
        "verdict": result.verdict.value,
        "missing": [gap.item.name for gap in result.missing],
        "deferrable": [{"name": gap.item.name, "deadline": gap.item.deadline} for gap in result.deferrable],
        "electronic": [item.name for item in result.electronic],
        "has": [item.name for item in result.has],
        "unmatched": list(result.unmatched),
        "sources": [{"title": result.subject, "section": "材料预审", "notice": result.notice}],
    }


ASK_SUBJECT = (
    "您要办哪个事项，或哪一件事？告诉我（如“结婚登记”“新生儿出生一件事”），我按它的材料清单帮您核对还缺什么。"
)


def render_precheck_answer(decision: Decision) -> Reply:
    result = decision.precheck
    if result is None:
        return Reply(
            text=ASK_SUBJECT,
            buttons=[{"title": "有哪些一件事", "payload": "一件事一次办有哪些"}],
            payload={"type": "precheck_subject"},
        )
    if decision.plan is not None:
        card = precheck_card(result, decision.plan.bundle.id, "bundle")
        first = _first_hall_step(decision.plan)
        book = first.guide.name if first is not None else None
    else:
        assert decision.guide is not None
        card = precheck_card(result, decision.guide.id, "guide")
        book = decision.guide.name
    buttons = []
    if result.verdict is not Verdict.gather_first and book is not None:
        buttons.append({"title": "预约办理", "payload": f'/book_appointment{{"service": "{book}"}}'})
    buttons.append(AGENCY_BUTTON)
    return Reply(text=render_precheck(result), buttons=buttons, payload=card)


def render_event_list() -> Reply:
    """Every event the index serves, each a button that asks for it by name."""
    bundles = list_bundles()
    lines = [f"{n}. {b.name}：{_plain(unfolded(b.lead), LEAD_CHARS)}" for n, b in enumerate(bundles, 1)]
    text = "这些事可以“一件事一次办”（材料只交一次，能同时办的同时办）：\n" + "\n".join(lines)
    notice = bundles[0].sample_notice if bundles else ""
    return Reply(
        text=f"{text}\n点选或说出想办的那件事。" + (f"（{notice}）" if notice else ""),
        buttons=[{"title": b.name, "payload": b.name} for b in bundles],
        payload={"type": "bundle_list", "bundles": [{"id": b.id, "name": b.name} for b in bundles]},
    )


def render_life_event(decision: Decision) -> Reply:
    if decision.kind is Kind.bundle_list:
        return render_event_list()
    if decision.kind is Kind.precheck:
        return render_precheck_answer(decision)
    return render_bundle_answer(decision)
