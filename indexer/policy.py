"""Split a policy text (a government 通知/方案 as plain text) into citable items.

Chinese policy documents number their parts 一、 / (一) / 1. ; each numbered item
becomes one unit, and a (一)-level paragraph with no numbered items under it becomes
one unit of its own, so every answer can cite "第N条" or "五(二)".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_PART = re.compile(r"^([一二三四五六七八九十]+)、(.*)$")
_SUBSECTION = re.compile(r"^[（(]([一二三四五六七八九十]+)[)）](.*)$")
_ITEM = re.compile(r"^(\d{1,3})[.．、](.*)$")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]+〔\d{4}〕\d+号")


@dataclass(frozen=True)
class PolicyItem:
    doc_id: str
    title: str
    doc_number: str | None
    label: str
    heading: str
    text: str


@dataclass
class _Open:
    label: str
    heading: str
    lines: list[str]


def _split_heading(rest: str) -> tuple[str, str]:
    """``优化网上办理模式。要积极推进…`` → (``优化网上办理模式``, ``要积极推进…``)."""
    match = re.match(r"^(.{1,40}?)[。.](.*)$", rest)
    if match:
        return match.group(1).strip(), match.group(2).strip()
    return rest.strip(), ""


def parse_policy(path: Path) -> list[PolicyItem]:
    """The citable items of the policy in ``path``; the first non-empty line is its title."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        return []
    title = lines[0]
    number_match = next((m for m in map(_DOC_NUMBER.search, lines[:10]) if m), None)
    doc_number = number_match.group(0) if number_match else None

    items: list[PolicyItem] = []
    part = ""
    current: _Open | None = None
    subsection: _Open | None = None

    def close(unit: _Open | None) -> None:
        if unit is not None and (unit.lines or unit.heading):
            items.append(
                PolicyItem(
                    doc_id=f"{path.stem}#{unit.label}",
                    title=title,
                    doc_number=doc_number,
                    label=unit.label,
                    heading=unit.heading,
                    text="".join(unit.lines),
                )
            )

    for line in lines[1:]:
        if m := _PART.match(line):
            close(current)
            close(subsection)
            current = subsection = None
            part = m.group(1)
        elif m := _SUBSECTION.match(line):
            close(current)
            close(subsection)
            current = None
            heading, body = _split_heading(m.group(2))
            subsection = _Open(
                f"{part}({m.group(1)})" if part else f"({m.group(1)})", heading, [body] if body else []
            )
        elif m := _ITEM.match(line):
            close(current)
            # A subsection that holds numbered items is only a heading, not a unit.
            subsection = None
            heading, body = _split_heading(m.group(2))
            current = _Open(m.group(1), heading, [body] if body else [])
        elif current is not None:
            current.lines.append(line)
        elif subsection is not None:
            subsection.lines.append(line)
    close(current)
    close(subsection)
    return [item for item in items if item.text]


@dataclass(frozen=True)
class PolicyFaq:
    label: str
    question: str
    answer: str


def faq_file(policy: Path) -> Path:
    """The optional plain-language Q&A (政策解读) kept beside a policy: ``<stem>.faq.yaml``."""
    return policy.with_name(f"{policy.stem}.faq.yaml")


def load_policy_faq(policy: Path, labels: set[str]) -> list[PolicyFaq]:
    """Q&A pairs for the items of ``policy``; an unknown item label is an error naming the file."""
    path = faq_file(policy)
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    faqs = []
    for label, entries in (data.get("items") or {}).items():
        if str(label) not in labels:
            raise ValueError(f"{path.name}: items.{label}: 政策中没有这一条")
        faqs += [PolicyFaq(str(label), str(entry["q"]), str(entry["a"])) for entry in entries]
    return faqs
