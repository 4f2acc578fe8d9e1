"""Turn a guide (or a policy item) into the answer a resident reads, with its source."""

from __future__ import annotations

from typing import Any

from indexer.chunks import SECTION_LABELS, describe_material
from indexer.schema import Guide
from indexer.search import SearchHit

ASPECT_OF_INTENT = {
    "ask_materials": "materials",
    "ask_eligibility": "conditions",
    "ask_process": "process",
    "ask_fee": "fees",
    "ask_time_limit": "time_limit",
    "ask_location": "location",
}


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


def render_aspect(guide: Guide, aspect: str) -> str:
    """The body of an answer about one aspect of one guide."""
    name = f"「{guide.name}」"
    if aspect == "materials":
        body = _numbered([describe_material(m) for m in guide.materials])
        marks = []
        if any(m.e_license for m in guide.materials):
            marks.append("标“可用电子证照”的可不带实体证件")
        if any(m.deferrable for m in guide.materials):
            marks.append("标“可容缺后补”的可先受理、办结前补交")
        tail = f"\n（{'；'.join(marks)}）" if marks else ""
        return f"办理{name}需要准备：\n{body}{tail}"
    if aspect == "conditions":
        return f"申请{name}的条件：\n{_numbered(list(guide.conditions))}"
    if aspect == "process":
        steps = _numbered([f"{step.name}：{step.description}" for step in guide.process])
        visits = "全程网办，一次不用跑" if guide.max_visits == 0 else f"最多跑{guide.max_visits}次"
        return f"{name}办理流程（{visits}）：\n{steps}"
    if aspect == "fees":
        basis = f"（依据：{guide.fees.basis}）" if guide.fees.basis else ""
        return f"{name}收费标准：{guide.fees.standard}{basis}"
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
        return f"{name}可以到这些地方办理：\n{halls}{online}"
    visits = "全程网办" if guide.max_visits == 0 else f"最多跑{guide.max_visits}次"
    return f"{name}：{guide.summary}\n（{guide.type.value}，{guide.department}，{visits}）"


def guide_card(guide: Guide, aspect: str) -> dict[str, Any]:
    """The structured card channels can show: the checklist of materials and where it came from."""
    return {
        "type": "guide_card",
        "guide_id": guide.id,
        "service": guide.name,
        "section": aspect,
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
            for m in guide.materials
        ]
        if aspect == "materials"
        else [],
        "sources": [guide_source(guide, aspect)],
    }


def next_step_buttons(guide: Guide) -> list[dict[str, str]]:
    service = guide.name
    return [
        {"title": "预约办理", "payload": f'/book_appointment{{"service": "{service}"}}'},
        {"title": "全部材料", "payload": f'/ask_materials{{"service": "{service}"}}'},
        {"title": "我符合条件吗", "payload": f'/ask_eligibility{{"service": "{service}"}}'},
    ]


def render_policy(hit: SearchHit, item_text: str) -> str:
    """Quote the item itself: the plan's own words are what the answer can be held to."""
    body = item_text.split("：", 1)[-1]
    return f"根据{hit.title}{hit.section}：\n{body}"


def policy_source(hit: SearchHit) -> dict[str, Any]:
    return {"title": hit.title, "section": hit.section}
