"""One merged materials list for a bundle: each material asked once, however many steps need it.

Guides name the same document differently (父母双方居民身份证、《出生医学证明》、身份证). A name is
reduced to the document it ends with, as the domain dictionary spells it (its terms and the
canonical side of its synonyms), after dropping 《》, bracketed explanations and who holds it
(落户方的…). Names the dictionary does not know are compared as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from indexer.dictionary import DomainDictionary
from indexer.schema import Material, MaterialForm
from indexer.text import BRACKETED, without_brackets

_ALTERNATIVE = re.compile(r"或者|或")
# Marks joining several documents in one name (共和国 is not a join).
_JOINED = re.compile(r"[及、，,或]|(?<!共)和(?!国)")
# A 的 after one of these joins documents (…证明及…成员的身份证), not a holder (落户方的户口簿).
_DOCUMENT_MARKS = re.compile(r"证|簿|书|(?<!代)表|照|合同|材料|文件|凭")

# Stricter first: a hall that keeps the original also sees it; a copy can be made from it.
_FORM_STRICTNESS = {
    MaterialForm.original_and_copy: 4,
    MaterialForm.original: 3,
    MaterialForm.copy: 2,
    MaterialForm.form: 1,
    MaterialForm.electronic: 0,
}


@dataclass(frozen=True)
class MaterialNames:
    """Surface form → canonical document name, from the domain dictionary: its synonym groups
    first (残疾人证 inside 中华人民共和国残疾人证), then its other terms (证照、事项名称)."""

    synonyms: dict[str, str]
    terms: frozenset[str]

    @classmethod
    def from_dictionary(cls, dictionary: DomainDictionary) -> MaterialNames:
        table: dict[str, str] = {}
        for canonical, variants in dictionary.synonyms.items():
            if canonical in dictionary.aspect_terms:
                continue
            table[canonical] = canonical
            table.update({variant: canonical for variant in variants})
        return cls(table, frozenset(term for term in dictionary.terms if len(term) >= 2))

    def document(self, text: str) -> str | None:
        """The known document ``text`` ends with (父母双方居民身份证 → 居民身份证), if any."""
        suffixes = [text[start:] for start in range(len(text) - 1)]
        found = next((self.synonyms[s] for s in suffixes if s in self.synonyms), None)
        return found or next((s for s in suffixes if s in self.terms), None)

    def is_document(self, name: str) -> bool:
        return name in self.synonyms or name in self.terms

    def cleaned(self, name: str) -> str:
        """Without 《》 and bracketed explanations, except a bracket that only names the document
        (设立登记证件（营业执照） → 设立登记证件的营业执照)."""
        text = name.replace("《", "").replace("》", "").strip()
        return without_brackets(BRACKETED.sub(self._bracket, text)).strip()

    def display(self, name: str) -> str:
        """A guide's wording without 《》 and bracketed explanations, for a line's title."""
        return without_brackets(name.replace("《", "").replace("》", "")).strip()

    def keys(self, name: str) -> tuple[str, ...]:
        """What a material is, for merging: one key, or several when either will do
        (居民身份证或居民户口簿 → 居民身份证, 居民户口簿). Unknown names stay as written."""
        text = self.cleaned(name)
        holder, _, document = text.rpartition("的")
        if not holder or _DOCUMENT_MARKS.search(holder):
            document = text  # what precedes 的 is not a person (…证明及参加经营家庭成员的…)
        parts = [part.strip("，,") for part in _ALTERNATIVE.split(document) if part.strip("，,")]
        reduced = [self._reduce(part) for part in parts]
        if len(parts) > 1 and any(reduced):
            return tuple(dict.fromkeys(r or p for r, p in zip(reduced, parts, strict=True)))
        return (reduced[0],) if len(parts) == 1 and reduced[0] else (text,)

    def _reduce(self, part: str) -> str | None:
        return None if _JOINED.search(part) else self.document(part)

    def _bracket(self, match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        return f"的{self.synonyms.get(inner, inner)}" if self.is_document(inner) else match.group(0)


@dataclass(frozen=True)
class MaterialUse:
    """One step's demand for a material, as its guide words it. ``when``: the step is done only
    in that case (按需), so even a required material of it is needed only then."""

    step: int
    step_title: str
    material: Material
    obtained_from: int | None = None
    when: str | None = None

    @property
    def required(self) -> bool:
        return self.material.required and self.when is None

    @property
    def condition(self) -> str | None:
        return self.material.condition or self.when


@dataclass(frozen=True)
class MergedMaterial:
    name: str
    uses: tuple[MaterialUse, ...]
    form: MaterialForm
    copies: int
    required: bool
    e_license: bool
    deferrable: bool
    obtained_from: int | None = None

    @property
    def steps(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(use.step for use in self.uses))

    @property
    def to_bring(self) -> bool:
        """False when an earlier step issues it or the hall fetches the electronic licence."""
        return self.obtained_from is None and not self.e_license

    @property
    def conditions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(u.condition for u in self.uses if u.condition))


@dataclass(frozen=True)
class StepMaterials:
    """What ``merge_materials`` needs of one planned step."""

    number: int
    title: str
    materials: Sequence[Material]
    earlier_outputs: Mapping[str, int]  # document key → number of an earlier step that issues it
    when: str | None = None  # the step is done only in this case


def merge_materials(steps: Sequence[StepMaterials], names: MaterialNames) -> tuple[MergedMaterial, ...]:
    """Merge the steps' materials: a document named alike (through the dictionary) is one line;
    an "either … or …" material joins a line of a document it accepts. Lines keep the order in
    which the steps first ask for them."""
    uses: list[tuple[tuple[str, ...], MaterialUse]] = []
    for step in steps:
        for material in step.materials:
            keys = names.keys(material.name)
            source = next((step.earlier_outputs[k] for k in keys if k in step.earlier_outputs), None)
            uses.append((keys, MaterialUse(step.number, step.title, material, source, step.when)))
    line_of: dict[str, str] = {}
    groups: dict[str, list[int]] = {}
    # Single documents first, so 居民身份证或居民户口簿 finds the 居民身份证 line wherever it is listed.
    for position in sorted(range(len(uses)), key=lambda i: len(uses[i][0]) > 1):
        keys = uses[position][0]
        line = next((line_of[k] for k in keys if k in line_of), "或".join(keys))
        for key in keys:
            line_of.setdefault(key, line)
        groups.setdefault(line, []).append(position)
    merged = []
    for line, positions in sorted(groups.items(), key=lambda item: min(item[1])):
        positions.sort()
        line_uses = [uses[p][1] for p in positions]
        label = _label(line, [uses[p][0] for p in positions], line_uses, names)
        merged.append(_merge(label, line_uses))
    return tuple(merged)


def _label(line: str, keys: list[tuple[str, ...]], uses: list[MaterialUse], names: MaterialNames) -> str:
    """The document every use accepts, as the dictionary names it, when some step asks for exactly
    it or an earlier step issues it; else the first guide's wording."""
    shared = set(keys[0]).intersection(*keys[1:])
    document = next((k for k in keys[0] if k in shared and names.is_document(k)), None)
    exact = any(len(k) == 1 for k in keys) or all(u.obtained_from is not None for u in uses)
    if document and exact:
        return document
    if all(names.is_document(part) for part in line.split("或")):
        return line
    return names.display(min(uses, key=lambda u: u.step).material.name)


def _merge(name: str, uses: list[MaterialUse]) -> MergedMaterial:
    """Stricter wins among what the resident brings: 原件 over 复印件, more copies, required if any
    step requires it; electronic or 容缺 only if every step that needs it says so. When an earlier
    step issues it, it is not brought unless a step needs it regardless (then only conditionally)."""
    uses.sort(key=lambda u: u.step)
    obtained = [u.obtained_from for u in uses if u.obtained_from is not None]
    brought_uses = [u for u in uses if u.obtained_from is None]
    source = min(obtained) if obtained and not any(u.required for u in brought_uses) else None
    materials = [u.material for u in brought_uses] or [u.material for u in uses]
    needed = [m for m in materials if m.required] or materials
    return MergedMaterial(
        name=name,
        uses=tuple(uses),
        form=max((m.form for m in materials), key=_FORM_STRICTNESS.__getitem__),
        copies=max(m.copies for m in materials),
        required=any(u.required for u in uses),
        e_license=all(m.e_license for m in needed),
        deferrable=all(m.deferrable for m in needed),
        obtained_from=source,
    )
