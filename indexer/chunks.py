"""Cut guides by section and policies by item into chunks that carry where they came from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from indexer.bundle_schema import Bundle
from indexer.policy import PolicyFaq, PolicyItem
from indexer.schema import Guide

SECTION_LABELS: dict[str, str] = {
    "overview": "基本信息",
    "basis": "设定依据",
    "conditions": "申请条件",
    "materials": "申请材料",
    "special_steps": "特殊环节",
    "process": "办理流程",
    "fees": "收费标准",
    "benefits": "待遇标准",
    "time_limit": "办理时限",
    "location": "办理地点",
    "notes": "注意事项",
    "faq": "常见问题",
    "situation": "办理情形",
    "policy": "政策条款",
    "bundle": "一件事",
}

SECTION_OF_LABEL = {label: section for section, label in SECTION_LABELS.items()}

DocKind = Literal["guide", "policy", "bundle"]


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    kind: DocKind
    title: str
    section: str
    text: str

    @property
    def section_label(self) -> str:
        return SECTION_LABELS.get(self.section, self.section)


def _numbered(lines: list[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def describe_material(material: object) -> str:
    """One line per material: name, form, copies and the marks a resident must notice."""
    from indexer.schema import Material

    assert isinstance(material, Material)
    parts = [material.name, material.form.value]
    if material.copies:
        parts.append(f"{material.copies}份")
    if material.signature and material.signature != "无":
        parts.append(material.signature)
    if not material.required:
        # Conditions are written as clauses (…的 / …时); the template supplies its own 时.
        condition = (material.condition or "").removesuffix("时").removesuffix("的")
        parts.append(f"（{condition}时提供）")
    if material.e_license:
        parts.append("可用电子证照")
    if material.deferrable:
        parts.append("可容缺后补")
    if material.note:
        parts.append(material.note)
    return "，".join(parts)


def describe_benefits(guide: Guide) -> str:
    """待遇标准 in one paragraph: each level, how it is paid, and the caveat."""
    benefits = guide.benefits
    assert benefits is not None
    levels = "；".join(f"{level.who}：{level.amount}" for level in benefits.levels)
    tail = "".join(f"\n{part}" for part in (benefits.how_paid, benefits.note) if part)
    return f"{levels}{tail}"


def _guide_sections(guide: Guide) -> Iterator[tuple[str, str]]:
    visits = "全程网办、一次不用跑" if guide.max_visits == 0 else f"最多跑{guide.max_visits}次"
    yield (
        "overview",
        (
            f"{guide.summary}\n事项类型：{guide.type.value}；实施主体：{guide.department}；{visits}。"
            f"\n俗称：{'、'.join(guide.aliases)}"
        ),
    )
    yield "basis", _numbered(guide.legal_basis)
    rules = [rule.text for rule in guide.eligibility_rules if rule.text not in guide.conditions]
    yield "conditions", _numbered(list(guide.conditions) + rules)
    yield "materials", _numbered([describe_material(m) for m in guide.materials])
    yield "special_steps", _numbered(guide.special_steps)
    yield (
        "process",
        _numbered([f"{s.name}：{s.description}" for s in guide.process]) + f"\n办理窗口：{guide.handler}",
    )
    fee = guide.fees.standard + (f"（依据：{guide.fees.basis}）" if guide.fees.basis else "")
    yield "fees", ("收费：" if guide.fees.charged else "不收费。") + fee
    if guide.benefits is not None:
        yield "benefits", describe_benefits(guide)
    limits = guide.time_limits
    legal = (
        f"法定办结时限{limits.legal_days}个工作日" if limits.legal_days is not None else "法律未规定办结时限"
    )
    promised = "承诺即时办结" if limits.promised_days == 0 else f"承诺办结时限{limits.promised_days}个工作日"
    yield "time_limit", f"{legal}，{promised}。" + (limits.note or "")
    halls = [f"{h.name}，{h.address}，{h.window}，{h.hours}，电话{h.phone}" for h in guide.halls]
    online = "可全程网上办理" if guide.online.fully_online else "需到大厅办理"
    yield "location", _numbered(halls) + f"\n{online}。{guide.online.how or ''}"
    yield "notes", _numbered(guide.notes)


def guide_chunks(guide: Guide) -> list[Chunk]:
    """Every section of one guide; each chunk's text opens with the service name and its aliases,
    so a question that names the service colloquially still matches the right section."""
    header = f"{guide.name}（{'、'.join(guide.aliases[:6])}）"
    chunks = [
        Chunk(
            f"{guide.id}:{section}",
            guide.id,
            "guide",
            guide.name,
            section,
            f"{header} {SECTION_LABELS[section]}：{body}",
        )
        for section, body in _guide_sections(guide)
    ]
    chunks += [
        Chunk(f"{guide.id}:faq{i}", guide.id, "guide", guide.name, "faq", f"{header} 问：{faq.q} 答：{faq.a}")
        for i, faq in enumerate(guide.faqs, 1)
    ]
    return chunks + situation_chunks(guide)


def situation_chunk_id(guide_id: str, situation_id: str, index: int) -> str:
    return f"{guide_id}:situation:{situation_id}:{index}"


def faq_of_chunk(chunk_id: str) -> int | None:
    """The position (1-based) in the guide's ``faqs`` a FAQ chunk stands for (``gid:faq3`` → 3)."""
    _, _, tail = chunk_id.partition(":")
    return int(tail[3:]) if tail.startswith("faq") and tail[3:].isdigit() else None


def situation_of_chunk(chunk_id: str) -> str | None:
    """The situation id a situation chunk stands for (``gid:situation:sid:i`` → sid)."""
    parts = chunk_id.split(":")
    return parts[2] if len(parts) == 4 and parts[1] == "situation" else None


def situation_chunks(guide: Guide) -> list[Chunk]:
    """One short chunk per way residents describe a situation: a short colloquial question
    matches a short description far better than one long paragraph of all of them. The service
    and situation names follow the description: on the retrieval benchmark they raise the share
    of in-scope questions matched to the right guide and lower off-topic matches."""
    return [
        Chunk(
            situation_chunk_id(guide.id, situation.id, i),
            guide.id,
            "guide",
            guide.name,
            "situation",
            f"{say}（{guide.name}·{situation.name}）",
        )
        for situation in guide.situations
        for i, say in enumerate([situation.name, *situation.says])
    ]


def bundle_chunks(bundle: Bundle, guide_names: dict[str, str]) -> list[Chunk]:
    """A life event as a document: one overview (its names, lead and the services it takes, so a
    question naming the event or asking what it takes finds it) and, like a guide's situations,
    one short chunk per way residents say it (生娃娃了，要办些啥子)."""
    header = f"{bundle.name}（{'、'.join(bundle.aliases[:6])}）"
    steps = "；".join(f"{step.title}（{guide_names.get(step.guide, step.guide)}）" for step in bundle.steps)
    chunks = [
        Chunk(
            f"{bundle.id}:bundle",
            bundle.id,
            "bundle",
            bundle.name,
            "bundle",
            f"{header} 一件事一次办：{bundle.lead}\n要办的事项：{steps}",
        )
    ]
    chunks += [
        Chunk(
            situation_chunk_id(bundle.id, "says", i),
            bundle.id,
            "bundle",
            bundle.name,
            "situation",
            f"{say}（{bundle.name}）",
        )
        for i, say in enumerate(bundle.says)
    ]
    return chunks


def _policy_citation(item: PolicyItem) -> tuple[str, str]:
    cited = f"第{item.label}条" if item.label.isdigit() else item.label
    title = f"{item.title}（{item.doc_number}）" if item.doc_number else item.title
    return title, f"{cited} {item.heading}"


def policy_chunks(item: PolicyItem, faqs: list[PolicyFaq]) -> list[Chunk]:
    """One policy item, plus its plain-language Q&A; all cite the item itself."""
    title, section = _policy_citation(item)
    chunks = [Chunk(item.doc_id, item.doc_id, "policy", title, section, f"{title} {section}：{item.text}")]
    chunks += [
        Chunk(
            f"{item.doc_id}:faq{i}",
            item.doc_id,
            "policy",
            title,
            section,
            f"{section} 问：{faq.question} 答：{faq.answer}",
        )
        for i, faq in enumerate((f for f in faqs if f.label == item.label), 1)
    ]
    return chunks
