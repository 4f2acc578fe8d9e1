"""Turn a decision — a guide's section (for a situation), a policy item, options to choose
from, or an honest "not sure" — into the reply a resident reads, with its source."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from answering.coverage import REPLACEMENT
from answering.decision import Decision, Kind
from answering.turn import ASPECT_OF_INTENT
from indexer.api import policy_item_text
from indexer.chunks import SECTION_LABELS, describe_material
from indexer.schema import Guide, Material, Situation
from indexer.search import SearchHit

INTENT_OF_ASPECT = {aspect: intent for intent, aspect in ASPECT_OF_INTENT.items()}
NOT_SURE = (
    "抱歉，这个问题我没有把握回答，怕说错耽误您跑冤枉路。您可以换个说法，比如“低保要带哪些材料”，"
    "或拨打政务服务热线 12345，也可以说“转人工”。"
)
OUT_OF_SCOPE = (
    "这个问题不属于政务服务，我答不好，怕说错误导您。我能帮您查办事指南（要带哪些材料、在哪办、"
    "收不收费、多久办好）、查办件进度、预约大厅办理；办事上的问题也可以拨打政务服务热线 12345。"
)
MAX_SITUATION_BUTTONS = 3


@dataclass(frozen=True)
class Reply:
    """One message: text, quick-reply buttons and the structured payload channels render."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    payload: dict[str, Any] | None = None


def guide_source(guide: Guide, section: str | None = None) -> dict[str, Any]:
    return {
        "title": guide.name,
        "section": SECTION_LABELS.get(section or "", None),
        "department": guide.department,
        "updated": guide.updated.isoformat(),
        "notice": guide.sample_notice,
        "url": guide.online.url,
    }


def citation(guide: Guide) -> str:
    notice = f"（{guide.sample_notice}）" if guide.sample_notice else ""
    return f"来源：《{guide.name}》办事指南 · {guide.department} · 更新于{guide.updated:%Y年%m月%d日}{notice}"


def _numbered(lines: list[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def where_to_apply(guide: Guide) -> str:
    """The guide's own rule for where to apply (户籍所在地乡镇(街道)社会救助窗口…): the part of
    ``handler`` that says who receives the application, before who reviews it."""
    return guide.handler.split("；")[0].split("，")[0].rstrip("。")


def short_material(material: Material) -> str:
    """One phone-sized line: name, form and copies, and the marks that save a trip."""
    copies = f"{material.copies}份" if material.copies else ""
    marks = [m for m, on in (("可用电子证照", material.e_license), ("可容缺后补", material.deferrable)) if on]
    return "，".join([f"{material.name}（{material.form.value}{copies}）", *marks])


def materials_for(guide: Guide, situation: Situation | None, full: bool) -> list[Material]:
    """The materials an answer lists: all of them when asked for the whole list; for a known
    situation what everyone brings plus that situation's own; otherwise the guide's list, or
    only what everyone brings when the rest depends on a situation the resident has not said."""
    extras = list(situation.extra_materials) if situation else []
    if full and situation is None:
        extras = [m for s in guide.situations for m in s.extra_materials]
    if full:
        chosen = [*guide.materials, *extras]
    elif situation is not None or guide.situations:
        chosen = [*(m for m in guide.materials if m.required), *extras]
    else:
        chosen = list(guide.materials)
    unique: dict[str, Material] = {}
    for material in chosen:
        unique.setdefault(material.name, material)
    return list(unique.values())


def _condition_lead(conditions: list[str]) -> tuple[str | None, list[str]]:
    """(符合下列情形之一, the cases) when the first condition introduces the others."""
    if conditions and conditions[0].rstrip("：:，,。").endswith(("之一", "之一的", "下列条件", "以下条件")):
        return conditions[0].rstrip("：:，,。"), conditions[1:]
    return None, conditions


def render_aspect(guide: Guide, aspect: str, situation: Situation | None = None, full: bool = False) -> str:
    """The body of an answer about one aspect of one guide (and of one of its situations);
    phone-sized unless ``full`` (the resident asked for the whole list)."""
    name = f"「{guide.name}」"
    if aspect == "materials":
        materials = materials_for(guide, situation, full)
        describe = describe_material if full else short_material
        body = _numbered([describe(m) for m in materials])
        marks = []
        if any(m.e_license for m in materials):
            marks.append("标“可用电子证照”的可不带实体证件")
        if any(m.deferrable for m in materials):
            marks.append("标“可容缺后补”的可先受理、办结前补交")
        tail = f"\n（{'；'.join(marks)}）" if marks else ""
        left_out = len({m.name for m in guide.materials} - {m.name for m in materials})
        more = f"\n委托代办等其他情况另需{left_out}项材料，可看“全部材料”。" if left_out and not full else ""
        return f"办理{name}需要准备：\n{body}{tail}{more}"
    if aspect == "conditions":
        lead, cases = _condition_lead(list(guide.conditions))
        extra = list(situation.extra_conditions) if situation else []
        if lead and situation is not None:
            also = f"，另需：\n{_numbered(extra)}" if extra else "。"
            return f"申请{name}的条件：{lead}，您的情形是“{situation.name}”{also}"
        listed = _numbered([*cases, *extra])
        return f"申请{name}的条件：{lead + '：' if lead else ''}\n{listed}"
    if aspect == "process":
        steps = _numbered([f"{step.name}：{step.description}" for step in guide.process])
        visits = "全程网办，一次不用跑" if guide.max_visits == 0 else f"最多跑{guide.max_visits}次"
        online = f"\n网上办理：{guide.online.how}" if guide.online.how else ""
        return f"{name}办理流程（{visits}）：\n{steps}{online}"
    if aspect == "fees":
        basis = f"（依据：{guide.fees.basis}）" if guide.fees.basis else ""
        return f"{name}收费标准：{guide.fees.standard}{basis}"
    if aspect == "benefits" and guide.benefits is not None:
        levels = _numbered([f"{level.who}：{level.amount}" for level in guide.benefits.levels])
        tail = "".join(f"\n{part}" for part in (guide.benefits.how_paid, guide.benefits.note) if part)
        fee = "" if guide.fees.charged else "\n办理本身不收费。"
        return f"{name}待遇标准：\n{levels}{tail}{fee}"
    if aspect == "time_limit":
        limits = guide.time_limits
        legal = (
            f"法定办结时限{limits.legal_days}个工作日"
            if limits.legal_days is not None
            else "法律未规定办结时限"
        )
        promised = "当场办结" if limits.promised_days == 0 else f"承诺{limits.promised_days}个工作日内办结"
        note = f"（{limits.note}）" if limits.note else ""
        return f"{name}：{legal}，{promised}{note}。"
    if aspect == "location":
        halls = _numbered(
            [f"{h.name}：{h.address}，{h.window}，{h.hours}，电话{h.phone}" for h in guide.halls]
        )
        online = f"\n网上办理：{guide.online.how}" if guide.online.how else ""
        return f"{name}在哪办：{where_to_apply(guide)}。\n可以到这些地方办理：\n{halls}{online}"
    visits = "全程网办" if guide.max_visits == 0 else f"最多跑{guide.max_visits}次"
    return f"{name}：{guide.summary}\n（{guide.type.value}，{guide.department}，{visits}）"


def guide_card(
    guide: Guide, aspect: str, situation: Situation | None = None, full: bool = False
) -> dict[str, Any]:
    """The structured card channels can show: the checklist of the materials the answer lists
    (so it can be completed) and where it came from."""
    materials = materials_for(guide, situation, full)
    return {
        "type": "guide_card",
        "guide_id": guide.id,
        "service": guide.name,
        "section": aspect,
        "situation": situation.name if situation else None,
        "materials": [
            {
                "name": m.name,
                "form": m.form.value,
                "copies": m.copies,
                "required": m.required,
                "condition": m.condition,
                "e_license": m.e_license,
                "deferrable": m.deferrable,
            }
            for m in materials
        ]
        if aspect == "materials"
        else [],
        "sources": [guide_source(guide, aspect)],
    }


def next_step_buttons(guide: Guide, situation: Situation | None = None) -> list[dict[str, str]]:
    service = guide.name
    of_situation = f', "situation": "{situation.id}"' if situation else ""
    return [
        {"title": "预约办理", "payload": f'/book_appointment{{"service": "{service}"}}'},
        {
            "title": "全部材料",
            "payload": f'/ask_materials{{"service": "{service}"{of_situation}, "detail": "all"}}',
        },
        {"title": "我符合条件吗", "payload": f'/ask_eligibility{{"service": "{service}"}}'},
    ]


def render_policy(hit: SearchHit, item_text: str) -> str:
    """Quote the item itself: the plan's own words are what the answer can be held to."""
    body = item_text.split("：", 1)[-1]
    return f"根据{hit.title}{hit.section}：\n{body}"


def policy_source(hit: SearchHit) -> dict[str, Any]:
    return {"title": hit.title, "section": hit.section}


def _situation_lead(situation: Situation, recognised: bool) -> str:
    said = f"您说的是“{situation.name}”的情形。" if recognised else f"按“{situation.name}”的情形："
    return f"{said}{situation.guidance}"


def _corrections_note(decision: Decision) -> str:
    pairs = "，".join(f"“{wrong}”按“{right}”" for wrong, right in decision.corrections)
    return f"（{pairs}理解）\n" if pairs else ""


def _situation_buttons(guide: Guide, aspect: str) -> list[dict[str, str]]:
    intent = INTENT_OF_ASPECT.get(aspect, "ask_materials")
    return [
        {
            "title": situation.name,
            "payload": f'/{intent}{{"service": "{guide.name}", "situation": "{situation.id}"}}',
        }
        for situation in guide.situations[:MAX_SITUATION_BUTTONS]
    ]


def render_guide_answer(decision: Decision) -> Reply:
    """An answer (kind answer) or a general answer asking which situation (kind ask_situation)."""
    guide = decision.guide
    assert guide is not None, "a guide answer needs its guide"
    if decision.faq is not None:
        body = f"「{guide.name}」常见问题：{decision.faq.q}\n{decision.faq.a}"
    else:
        body = render_aspect(guide, decision.aspect, decision.situation, full=decision.full)
    if decision.situation is not None and decision.situation_said_before:
        body = f"（按“{decision.situation.name}”的情形）\n{body}"  # its guidance was in the last answer
    elif decision.situation is not None:
        body = f"{_situation_lead(decision.situation, decision.situation_recognised)}\n{body}"
    text = f"{_corrections_note(decision)}{body}"
    payload = guide_card(guide, decision.aspect, decision.situation, full=decision.full)
    if decision.kind is Kind.ask_situation:
        return Reply(
            text=f"{text}\n不同情形要带的材料、要满足的条件不完全一样，请选择您的情况：\n{citation(guide)}",
            buttons=[
                *_situation_buttons(guide, decision.aspect),
                *(b for b in next_step_buttons(guide) if not b["payload"].startswith("/ask_materials")),
            ],
            payload=payload,
        )
    buttons = next_step_buttons(guide, decision.situation)
    return Reply(text=f"{text}\n{citation(guide)}", buttons=buttons, payload=payload)


def render_clarify(decision: Decision) -> Reply:
    intent = INTENT_OF_ASPECT.get(decision.aspect, "inform")
    lead = (
        "您问的是下面哪一项？请选择："
        if decision.evidence == "ambiguous"
        else "我不太确定您问的是哪项，您是想问："
    )
    return Reply(
        text=f"{_corrections_note(decision)}{lead}",
        buttons=[
            {"title": guide.name, "payload": f'/{intent}{{"service": "{guide.name}"}}'}
            for guide in decision.options
        ]
        + (
            [{"title": decision.plan.bundle.name, "payload": decision.plan.bundle.name}]
            if decision.plan
            else []
        )
        + [{"title": "都不是，转人工", "payload": "/request_human"}],
        payload={
            "type": "clarify",
            "options": [guide.name for guide in decision.options]
            + ([decision.plan.bundle.name] if decision.plan else []),
        },
    )


# An item promising free 代办 is answered with the way to ask for it (the agency form asks
# for consent again before anything is filed).
_PROMISES_AGENCY = re.compile(r"免费代办|全程代办")
AGENCY_BUTTON = {"title": "申请免费代办", "payload": "/request_agency"}


def render_policy_answer(hit: SearchHit, item_text: str) -> Reply:
    return Reply(
        text=render_policy(hit, item_text),
        buttons=[AGENCY_BUTTON] if _PROMISES_AGENCY.search(item_text) else [],
        payload={"type": "policy", "doc_id": hit.doc_id, "sources": [policy_source(hit)]},
    )


def render_not_sure() -> Reply:
    return Reply(
        text=NOT_SURE,
        buttons=[{"title": "转人工", "payload": "/request_human"}],
        payload={"type": "unanswered"},
    )


def render_not_covered(guide: Guide, what: str) -> Reply:
    """A procedure the guide does not cover (结婚证丢了 beside 结婚登记, 抵押登记 beside 转移登记):
    say there is no guide for it rather than answer with this one, with what the guide notes
    about it."""
    words = re.compile("|".join(map(re.escape, _NOTE_WORDS.get(what, (what,)))))
    note = next((n for n in guide.notes if words.search(n)), None)
    lines = [f"我这里没有{what}的办事指南：「{guide.name}」不包括{what}，不能照着它准备材料。"]
    if note is not None:
        lines.append(f"「{guide.name}」指南里提到：{note.rstrip('。')}。")
    lines.append(f"具体请咨询{guide.department.split('，')[0]}，或拨打政务服务热线 12345。")
    if note is not None:
        lines.append(citation(guide))
    return Reply(
        text="\n".join(lines),
        buttons=[{"title": "转人工", "payload": "/request_human"}],
        payload={"type": "unanswered", **({"source": guide_source(guide)} if note is not None else {})},
    )


def render_no_guide(what: str) -> Reply:
    """Words asking for a procedure no guide covers, close to no guide either (人死了要销户口)."""
    return Reply(
        text=f"我这里还没有{what}的办事指南，怕说错耽误您跑冤枉路。"
        "请拨打政务服务热线 12345 咨询，也可以说“转人工”。",
        buttons=[{"title": "转人工", "payload": "/request_human"}],
        payload={"type": "unanswered"},
    )


# How a guide's notes speak of a procedure it does not cover (结婚证遗失、损毁的，可…申请补领).
_NOTE_WORDS = {REPLACEMENT: ("补领", "补办", "补发", "遗失", "丢失")}


def render_out_of_scope(text: str | None = None) -> Reply:
    return Reply(text=text or OUT_OF_SCOPE, payload={"type": "out_of_scope"})


def render(decision: Decision, out_of_scope_text: str | None = None) -> Reply:
    """The reply for any decision; ``out_of_scope_text`` is a topic-specific refusal if the
    channel has one (Rasa's ResponseSelector picks it)."""
    if decision.kind in (Kind.answer, Kind.ask_situation):
        return render_guide_answer(decision)
    if decision.kind in (Kind.bundle, Kind.precheck, Kind.bundle_list):
        from answering.render_bundle import render_life_event  # it builds on this module's helpers

        return render_life_event(decision)
    if decision.kind is Kind.clarify:
        return render_clarify(decision)
    if decision.kind is Kind.policy and decision.policy is not None:
        return render_policy_answer(
            decision.policy, policy_item_text(decision.policy.doc_id) or decision.policy.text
        )
    if decision.kind is Kind.out_of_scope:
        return render_out_of_scope(out_of_scope_text)
    if decision.guide is not None and decision.uncovered is not None:
        return render_not_covered(decision.guide, decision.uncovered)
    if decision.uncovered is not None:
        return render_no_guide(decision.uncovered)
    return render_not_sure()
