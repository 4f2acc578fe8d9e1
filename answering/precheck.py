"""预审 — "what am I missing?": compare what a resident says they have with what a guide (for
their situation) or a life-event bundle asks for, and say whether going to the hall now is worth it.

Pure: a guide or a ``BundlePlan``, the domain dictionary and the resident's words (or ticked names)
in, a ``PreCheck`` out. Material names are compared as documents, through the same normalisation
the bundles' merged lists use (``MaterialNames``): 身份证 and 父母双方居民身份证 are one document.
It is a pre-check, never an approval; the reply says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from answering.render import citation
from indexer.bundle_materials import MaterialNames, MergedMaterial
from indexer.bundle_plan import BundlePlan
from indexer.dictionary import DomainDictionary
from indexer.schema import Guide, Material, MaterialForm, Situation

NOT_AN_APPROVAL = "这是材料预审，不是审批结果，能否受理以窗口审核为准。"
# 遵府办发〔2017〕39号: 容缺受理 means the application is accepted and the material supplied later.
DEFERRAL_RULE = "容缺受理：先受理办理，在约定时限内补齐材料即可（遵府办发〔2017〕39号）"
DEFAULT_DEADLINE = "办结前补交"
SHORT_NOTE = 40  # a missing line carries the guide's note (可持临时居民身份证办理) when it fits a phone

NEGATIVE_MARKS = (
    "都没有", "都没带", "都没得", "没有", "没得", "莫得", "没带", "忘带", "忘了带", "找不到", "找不着",
    "不见了", "不见", "丢了", "丢失", "弄丢", "搞丢", "遗失", "还没", "没办", "没照", "没拍", "没开",
    "过期", "还差", "就差", "只差", "差个", "差一个", "差张", "缺", "没",
)  # fmt: skip
POSITIVE_MARKS = (
    "都带齐了", "都带了", "都有", "都在", "带齐了", "准备好了", "办好了", "拿到了", "带好了", "带了",
    "有了", "已有", "有",
)  # fmt: skip
_CLAUSE_BREAK = re.compile(r"[，,。；;！!？?\n]|但是|但|可是|不过")
_CONNECTORS = re.compile(
    r"[\s、/和跟与及也还就都我们的了呢啊吧嘛哦呀]|以及|还有|已经|现在|手上|手头|家里|这边"
)
_TAILS = "明书件"  # 房产证 + 明: an unknown document said in full
_QUANTITY = re.compile(r"^[0-9一两二三四五六七八九十几]*[张本份个件]")
# What a document's name ends with; a leftover phrase ending so is reported as unmatched.
_DOCUMENT_MARK = re.compile(r"(证|簿|本|照|书|表|卡|单|函|合同|材料|凭证|证明|相片|照片|账户)$")
# Suffixes too common to name one material on their own.
_GENERIC = frozenset(
    {"证明", "材料", "文件", "证件", "说明", "合同", "凭证", "表", "申请表", "申请书", "登记表"}
)
# A note saying the hall (or the hospital) makes or fetches it: nothing to prepare beforehand.
# A form another body must stamp first (村委会盖章) is prepared before going; one the applicant
# signs or stamps with their own seal is filled in at the window.
_STAMPED_BY_OTHERS = re.compile(
    r"(村民小组|村委会|居委会|社区|街道|乡镇|医院|学校|施工单位|监理单位)[^；;]{0,12}(盖章|公章)"
)
_ON_SITE_NOTE = re.compile(r"现场(免费)?(拍摄|拍照|照相|采集|领取填写|打印)|无需(家长|本人|申请人)?提供")


class Verdict(str, Enum):
    go = "可以去办"
    gather_first = "带齐后再去"
    go_deferred = "可以先去办（容缺受理）"


@dataclass(frozen=True)
class CheckItem:
    """One material as the pre-check weighs it (a guide's line, or a bundle's merged line)."""

    name: str
    keys: tuple[str, ...]
    required: bool
    form: MaterialForm
    copies: int
    e_license: bool
    deferrable: bool
    basis: str
    signature: str
    condition: str | None = None
    note: str | None = None
    guides: tuple[str, ...] = ()
    steps: tuple[int, ...] = ()
    issued_by: int | None = None

    @property
    def on_site(self) -> bool:
        """Nothing to prepare: a form filled in at the window that nobody else must stamp, or what
        the guide's note says the hall takes or fetches itself (现场拍照、无需家长提供)."""
        if self.form is MaterialForm.form and not _STAMPED_BY_OTHERS.search(self.signature):
            return True
        return bool(self.note and _ON_SITE_NOTE.search(self.note))

    @property
    def deadline(self) -> str:
        """By when a 容缺 material must follow, as the guide says (发放前补交), else the schema's rule."""
        found = re.search(r"[^，；。]*前补交", self.note or "")
        return found.group(0) if found else DEFAULT_DEADLINE

    @property
    def line(self) -> str:
        """The material line a verdict quotes: name, 原件/份数, where it is asked, and its basis."""
        copies = f"{self.copies}份" if self.copies else ""
        where = f"，第{'、'.join(map(str, self.steps))}步" if self.steps else ""
        return f"{self.name}（{self.form.value}{copies}{where}）：{self.basis}"


@dataclass(frozen=True)
class Gap:
    item: CheckItem
    said_lacking: bool


@dataclass(frozen=True)
class PreCheck:
    subject: str
    verdict: Verdict
    missing: tuple[Gap, ...]
    deferrable: tuple[Gap, ...]
    electronic: tuple[CheckItem, ...]
    issued: tuple[CheckItem, ...]
    on_site: tuple[CheckItem, ...]
    has: tuple[CheckItem, ...]
    lacks: tuple[CheckItem, ...]  # what the resident said they lack, wherever it is listed
    unmatched: tuple[str, ...]
    rule: tuple[str, ...]
    source: str
    situation: str | None = None
    other_situations: tuple[str, ...] = ()
    notice: str = NOT_AN_APPROVAL


@dataclass(frozen=True)
class Statement:
    """What the resident said, mapped onto the checklist: item indexes had and lacked, and what
    they named that is no material of it."""

    has: frozenset[int]
    lacks: frozenset[int]
    unmatched: tuple[str, ...]


class MaterialReader:
    """Reads a resident's words against one checklist. Names go through the dictionary's synonyms
    (户口本 → 居民户口簿) to the document a guide names; a checklist item is also found by a
    distinctive tail of its name (照片 for 双方近期半身免冠合影照片)."""

    def __init__(self, items: Sequence[CheckItem], dictionary: DomainDictionary) -> None:
        names = MaterialNames.from_dictionary(dictionary)
        surface = dict(names.synonyms)
        self._surface = surface
        self._canonical = _alternation(surface)
        self.items = tuple(
            replace(item, keys=tuple(dict.fromkeys(self.canonical(k) for k in item.keys))) for item in items
        )
        forms: dict[str, set[int]] = {}
        tails: dict[str, set[int]] = {}
        for index, item in enumerate(self.items):
            for key in item.keys:
                forms.setdefault(key, set()).add(index)
                for start in range(1, len(key) - 1):
                    tails.setdefault(key[start:], set()).add(index)
        for tail, owners in tails.items():
            if len(owners) == 1 and tail not in _GENERIC and tail not in forms:
                forms[tail] = owners
        self._forms = {form: frozenset(owners) for form, owners in forms.items()}
        documents = {w for w in (*names.terms, *surface.values()) if _DOCUMENT_MARK.search(w)}
        # Scanned in the resident's own words, so what is not matched is reported as they said it.
        spoken = [v for v, canonical in names.synonyms.items() if _DOCUMENT_MARK.search(canonical)]
        self._known = _alternation({w: w for w in (*self._forms, *documents, *spoken)})
        self._marks = _alternation({m: "-" for m in NEGATIVE_MARKS} | {m: "+" for m in POSITIVE_MARKS})

    def canonical(self, text: str) -> str:
        return self._canonical.sub(lambda m: self._surface[m.group(0)], text)

    def _owners(self, phrase: str) -> frozenset[int]:
        return self._forms.get(self._surface.get(phrase, phrase), frozenset())

    def ticked(self, names: Iterable[str]) -> Statement:
        """Ticked names: each an item's own name or any name the free text would understand."""
        has: set[int] = set()
        unmatched: list[str] = []
        for name in names:
            exact = {i for i, item in enumerate(self.items) if name == item.name}
            found = exact or {i for m in self._known.finditer(name) for i in self._owners(m.group(0))}
            has |= found
            if not found:
                unmatched.append(name)
        return Statement(frozenset(has), frozenset(), tuple(unmatched))

    def read(self, text: str) -> Statement:
        """Free text: has / lacks by the nearest 有 / 没有 (没有户口本, 户口本没有), "都有" for the
        whole run before it; a plain list counts as had."""
        has: set[int] = set()
        lacks: set[int] = set()
        unmatched: list[str] = []
        for clause in _CLAUSE_BREAK.split(text):
            for owners, phrase, polarity in self._polarities(clause):
                if not owners:
                    unmatched.append(phrase)
                (has if polarity == "+" else lacks).update(owners)
        return Statement(frozenset(has), frozenset(lacks - has), tuple(dict.fromkeys(unmatched)))

    def _polarities(self, clause: str) -> list[tuple[frozenset[int], str, str]]:
        tokens: list[tuple[str, str, frozenset[int]]] = []  # (kind: m / + / -, text, owners)
        position = 0
        while match := self._known.search(clause, position):
            phrase, owners = match.group(0), self._owners(match.group(0))
            following = clause[match.end() : match.end() + 1]
            if not owners and following and following in _TAILS:
                phrase += following
            tokens += self._between(clause[position : match.start()])
            tokens.append(("m", phrase, owners))
            position = match.start() + len(phrase)
        tokens += self._between(clause[position:])
        result: list[tuple[frozenset[int], str, str]] = []
        index = 0
        while index < len(tokens):
            if tokens[index][0] != "m":
                index += 1
                continue
            end = index
            while end < len(tokens) and tokens[end][0] == "m":
                end += 1
            before = tokens[index - 1] if index > 0 else None
            after = tokens[end] if end < len(tokens) else None
            run = tokens[index:end]
            for offset, (_, phrase, owners) in enumerate(run):
                result.append((owners, phrase, _polarity(before, after, offset == len(run) - 1)))
            index = end
        return result

    def _between(self, text: str) -> list[tuple[str, str, frozenset[int]]]:
        """Marks and leftover document-like phrases in the text between known names."""
        tokens: list[tuple[str, str, frozenset[int]]] = []
        position = 0
        for match in self._marks.finditer(text):
            tokens += _leftovers(text[position : match.start()])
            kind = "-" if match.group(0) in NEGATIVE_MARKS else "+"
            tokens.append((kind, match.group(0), frozenset()))
            position = match.end()
        return tokens + _leftovers(text[position:])


def _polarity(
    before: tuple[str, str, frozenset[int]] | None, after: tuple[str, str, frozenset[int]] | None, last: bool
) -> str:
    """A mark after a run of names speaks for all of it (身份证 户口本都有); with marks on both
    sides and no 都, the one after speaks for the last name only (有身份证 户口本没有); a bare
    list counts as had."""
    if after is not None and (before is None or "都" in after[1] or after[0] == before[0] or last):
        return after[0]
    return before[0] if before is not None else "+"


def _leftovers(text: str) -> list[tuple[str, str, frozenset[int]]]:
    phrases = (_QUANTITY.sub("", p) for p in _CONNECTORS.split(text))
    return [("m", p, frozenset()) for p in phrases if len(p) >= 2 and _DOCUMENT_MARK.search(p)]


def _alternation(words: dict[str, str]) -> re.Pattern[str]:
    """Longest first, so 居民户口簿 is one name and not 居民 + 户口簿."""
    ordered = sorted((w for w in words if w), key=lambda word: (-len(word), word))
    return re.compile("|".join(map(re.escape, ordered)) or r"(?!)")


def guide_items(guide: Guide, names: MaterialNames, situation: Situation | None = None) -> list[CheckItem]:
    """A guide's materials; a situation's extra materials count as required for it (its own copy
    of a conditional line replaces the general one)."""
    extras = {material.name: material for material in situation.extra_materials} if situation else {}
    extra_keys = {key for material in extras.values() for key in names.keys(material.name)}
    items = []
    for material in guide.materials:
        if material.name in extras:
            continue
        needed = material.required or bool(extra_keys & set(names.keys(material.name)))
        items.append(_item(material, names, guide, needed))
    items += [_item(material, names, guide, True) for material in extras.values()]
    return items


def _item(material: Material, names: MaterialNames, guide: Guide, required: bool) -> CheckItem:
    return CheckItem(
        name=names.display(material.name),
        keys=names.keys(material.name),
        required=required,
        form=material.form,
        copies=material.copies,
        e_license=material.e_license,
        deferrable=material.deferrable,
        basis=material.basis,
        signature=material.signature,
        condition=material.condition,
        note=material.note,
        guides=(guide.name,),
    )


def plan_items(plan: BundlePlan, names: MaterialNames) -> list[CheckItem]:
    return [_merged_item(line, plan, names) for line in plan.materials]


def _merged_keys(line: MergedMaterial, names: MaterialNames) -> tuple[str, ...]:
    """The documents that satisfy every step using the line: 户口簿 stands in for 居民身份证 at
    the step that accepts 居民身份证或居民户口簿, not at the steps that want the card itself."""
    per_use = [names.keys(use.material.name) for use in line.uses]
    every = set(per_use[0]).intersection(*per_use[1:])
    ordered = dict.fromkeys(key for keys in per_use for key in keys)
    return tuple(key for key in ordered if key in every) or tuple(ordered)


def _merged_item(line: MergedMaterial, plan: BundlePlan, names: MaterialNames) -> CheckItem:
    first = line.uses[0].material
    return CheckItem(
        name=line.name,
        keys=_merged_keys(line, names),
        required=line.required,
        form=line.form,
        copies=line.copies,
        e_license=line.e_license,
        deferrable=line.deferrable,
        basis=f"《{plan.step(line.uses[0].step).guide.name}》：{first.basis}",
        signature=first.signature,
        condition="；".join(line.conditions) or None,
        note=next((use.material.note for use in line.uses if use.material.note), None),
        guides=tuple(dict.fromkeys(plan.step(use.step).guide.name for use in line.uses)),
        steps=line.steps,
        issued_by=line.obtained_from,
    )


def plan_source(plan: BundlePlan) -> str:
    guides = "、".join(f"《{s.guide.name}》" for s in plan.steps)
    bundle = plan.bundle
    updated = f"更新于{bundle.updated:%Y年%m月%d日}"
    return f"来源：“{bundle.name}”及{guides}办事指南 · {updated}（{bundle.sample_notice}）"


def precheck(
    target: Guide | BundlePlan,
    dictionary: DomainDictionary,
    *,
    text: str = "",
    ticked: Sequence[str] = (),
    situation: str | None = None,
) -> PreCheck:
    """Pre-check a guide (for one of its situations, when known) or a bundle's plan against what
    the resident said (``text``) or ticked (``ticked``, all had)."""
    names = MaterialNames.from_dictionary(dictionary)
    chosen: Situation | None = None
    if isinstance(target, Guide):
        chosen = target.situation(situation) if situation else None
        if situation and chosen is None:
            raise ValueError(f"“{target.name}”没有情形“{situation}”")
        items = guide_items(target, names, chosen)
        subject, source = target.name, citation(target)
        # Only situations that change the list are worth naming (not 双方都是内地居民).
        others = () if chosen else tuple(s.name for s in target.situations if s.extra_materials)
    else:
        items = plan_items(target, names)
        subject, source, others = target.bundle.name, plan_source(target), ()
    reader = MaterialReader(items, dictionary)
    items = list(reader.items)
    said = reader.read(text) if text else Statement(frozenset(), frozenset(), ())
    if ticked:
        marked = reader.ticked(ticked)
        said = Statement(said.has | marked.has, said.lacks - marked.has, said.unmatched + marked.unmatched)
    return _weigh(items, said, subject, source, chosen, others)


def _weigh(
    items: Sequence[CheckItem],
    said: Statement,
    subject: str,
    source: str,
    situation: Situation | None,
    others: tuple[str, ...],
) -> PreCheck:
    needed = [(i, item) for i, item in enumerate(items) if item.required and i not in said.has]
    electronic = tuple(item for _, item in needed if item.e_license and item.issued_by is None)
    issued = tuple(item for _, item in needed if item.issued_by is not None)
    on_site = tuple(
        item for _, item in needed if item.on_site and not item.e_license and item.issued_by is None
    )
    skip = {id(item) for item in (*electronic, *issued, *on_site)}
    gaps = [Gap(item, i in said.lacks) for i, item in needed if id(item) not in skip]
    missing = tuple(g for g in gaps if not g.item.deferrable)
    deferrable = tuple(g for g in gaps if g.item.deferrable)
    if missing:
        verdict, rule = Verdict.gather_first, tuple(g.item.line for g in missing)
    elif deferrable:
        verdict = Verdict.go_deferred
        rule = (*(f"{g.item.line}；{g.item.deadline}" for g in deferrable), DEFERRAL_RULE)
    else:
        verdict = Verdict.go
        rule = tuple(item.line for i, item in enumerate(items) if item.required and i in said.has)
    return PreCheck(
        subject=subject,
        verdict=verdict,
        missing=missing,
        deferrable=deferrable,
        electronic=electronic,
        issued=issued,
        on_site=on_site,
        has=_had(items, said.has),
        lacks=tuple(item for i, item in enumerate(items) if i in said.lacks),
        unmatched=said.unmatched,
        rule=rule,
        source=source,
        situation=situation.name if situation else None,
        other_situations=others,
    )


def _had(items: Sequence[CheckItem], had: frozenset[int]) -> tuple[CheckItem, ...]:
    """The lines the resident has; a conditional line only when no required line is the same
    document (户口本 is the 居民户口簿 line, not also 变更后的户口簿)."""
    required_keys = {k for i in had if items[i].required for k in items[i].keys}
    return tuple(
        item
        for i, item in enumerate(items)
        if i in had and (item.required or not required_keys & set(item.keys))
    )


_HEADLINES = {
    Verdict.go: "按您说的，必备材料已经齐了。",
    Verdict.gather_first: "还缺必备材料，窗口一般无法受理，免得白跑。",
    Verdict.go_deferred: "缺的材料可以容缺受理：先受理，之后按时补交。",
}


def render_precheck(result: PreCheck) -> str:
    """The reply a resident reads: the verdict first, then numbered lines, the rule and source,
    and that this is a pre-check, not an approval."""
    where = f"（{result.situation}）" if result.situation else ""
    lines: list[str] = []
    if result.missing:
        lines.append("还缺：" + "；".join(_gap(g) for g in result.missing))
    if result.deferrable:
        lines.append(
            "可容缺后补："
            + "；".join(
                _gap(g) if g.item.deadline in _gap(g) else f"{_gap(g)}，{g.item.deadline}"
                for g in result.deferrable
            )
        )
    if result.electronic:
        lines.append("不用带：" + "、".join(i.name for i in result.electronic) + "（窗口调取电子证照）")
    if result.issued:
        lines.append("办理中取得：" + "、".join(f"{i.name}（第{i.issued_by}步办出）" for i in result.issued))
    if result.on_site:
        lines.append(
            "不用事先准备（窗口现场填写、拍照或自行调取）：" + "、".join(i.name for i in result.on_site)
        )
    if result.has:
        lines.append("您已有：" + "、".join(i.name for i in result.has))
    if result.unmatched:
        lines.append("不在本事项材料清单里：" + "、".join(result.unmatched))
    if result.other_situations:
        lines.append("如属「" + "」「".join(result.other_situations[:3]) + "」等情形，材料会有增减")
    numbered = "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))
    rule = "依据：" + "\n".join(result.rule[:3]) if result.rule else ""
    parts = [f"「{result.subject}」{where}材料预审：{result.verdict.value}。{_HEADLINES[result.verdict]}"]
    parts += [p for p in (numbered, rule, result.source, result.notice) if p]
    return "\n".join(parts)


def _gap(gap: Gap) -> str:
    copies = f"{gap.item.copies}份" if gap.item.copies else ""
    said = "，您说没有" if gap.said_lacking else ""
    note = gap.item.note if gap.item.note and len(gap.item.note) <= SHORT_NOTE else None
    return f"{gap.item.name}（{gap.item.form.value}{copies}{said}）" + (f"：{note}" if note else "")
