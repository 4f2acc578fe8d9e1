"""Where a turn is about: the 县区 a resident names, or the district of the hall they booked.

Names come from the domain dictionary's ``districts`` (knowledge/dictionary/terms.yaml: full and
short names) and the halls (knowledge/halls.yaml); every form of a name maps to the hall list's
spelling (道真县、道真 → 道真仡佬族苗族自治县), so one district is one bar on the dashboard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# What a district name may end in; what is left is its short name (汇川区 → 汇川).
_SUFFIX = re.compile(r"(仡佬族苗族自治县|新区|区|县|市)$")
# The prefecture itself: 遵义市 in a question says nothing about which district.
PREFECTURE_SHORT = "遵义"


def short_name(name: str) -> str:
    return _SUFFIX.sub("", name) or name


@dataclass(frozen=True)
class Places:
    """District names found in words and each hall's district."""

    # (spelling, canonical district), longest spelling first so 新蒲新区 wins over 新蒲.
    words: tuple[tuple[str, str], ...] = ()
    halls: Mapping[str, str] = field(default_factory=dict)  # hall name → its district

    def in_words(self, text: str) -> str | None:
        return next((district for word, district in self.words if word in text), None)

    def of_hall(self, hall: str) -> str | None:
        return self.halls.get(hall)


def build_places(district_terms: Iterable[str], halls: Mapping[str, str]) -> Places:
    """``halls`` maps hall names to districts; their spelling is the canonical one."""
    canonical = {short_name(district): district for district in halls.values()}
    words = {}
    for term in [*district_terms, *halls.values()]:
        short = short_name(term)
        if short == PREFECTURE_SHORT:
            continue
        district = canonical.get(short, term)
        words[term] = district
        if len(short) >= 2:
            words.setdefault(short, district)
    return Places(tuple(sorted(words.items(), key=lambda item: -len(item[0]))), dict(halls))


def load_places(dictionary_dir: Path, halls_file: Path) -> Places:
    terms = yaml.safe_load((dictionary_dir / "terms.yaml").read_text(encoding="utf-8")) or {}
    halls = yaml.safe_load(halls_file.read_text(encoding="utf-8")) or {}
    return build_places(
        [str(term) for term in terms.get("districts") or []],
        {str(hall["name"]): str(hall["district"]) for hall in halls.get("halls") or []},
    )
