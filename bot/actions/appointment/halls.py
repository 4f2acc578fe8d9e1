"""Which hall a resident means: 市中心、市政务中心、红花岗那个大厅、汇川的政务大厅、新蒲那个、凤岗.

Residents rarely say a hall's full name. A hall is known by its name, its name without the
prefecture (市政务服务中心), its district and the district's short name (汇川、道真), and the
colloquial names listed as ``aliases`` in knowledge/halls.yaml (市中心、遵义县). Whatever names
no hall, or two at once (汇川还是红花岗), is not guessed: the resident is asked to choose.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import yaml

# The prefecture contains every hall: 遵义市红花岗区 names 红花岗, and 遵义 alone names the
# city hall only when nothing more specific is said.
PREFECTURE = ("遵义市", "遵义")
# What every hall is called; never enough to tell one from another.
GENERIC = frozenset({"政务服务中心", "政务中心", "政务大厅", "服务中心", "大厅", "中心"})
_DISTRICT_SUFFIX = re.compile(r"(仡佬族苗族自治县|新区|区|县|市)$")
_IGNORED = re.compile(r"[\s\W_]+")
_CJK = re.compile(r"[\u3400-\u9fff]+")
# A quoted answer longer than this reads badly in the reply; it is then left out.
_QUOTE_CHARS = 12


class HallLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def district(self) -> str: ...


@dataclass(frozen=True)
class HallName:
    id: str
    name: str
    district: str
    aliases: tuple[str, ...] = ()

    def spoken_names(self) -> tuple[tuple[str, bool], ...]:
        """Every name of the hall, each with whether it is weak (the prefecture, 遵义)."""
        keys = [self.name, *self.aliases]
        keys += [self.name.removeprefix(p) for p in PREFECTURE if self.name.startswith(p)]
        short = _DISTRICT_SUFFIX.sub("", self.district)
        weak = self.district in PREFECTURE or short in PREFECTURE
        named = [(key, False) for key in keys if key and key not in GENERIC]
        named += [(key, weak) for key in (self.district, short) if len(key) >= 2]
        return tuple(dict.fromkeys(named))


@dataclass(frozen=True)
class HallMatch:
    """The halls ``said`` names, in the order they were said; empty when it names none."""

    said: str
    halls: tuple[HallName, ...]

    @property
    def hall(self) -> HallName | None:
        return self.halls[0] if len(self.halls) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.halls) > 1


@dataclass(frozen=True)
class HallChoice:
    """What to tell a resident whose hall could not be taken, and the halls to offer."""

    text: str
    halls: tuple[HallName, ...]


@dataclass(frozen=True)
class _Mention:
    hall: HallName
    start: int
    end: int
    weak: bool

    def inside(self, other: _Mention) -> bool:
        return (
            other.hall != self.hall
            and other.start <= self.start
            and self.end <= other.end
            and other.end - other.start > self.end - self.start
        )


def resolve_hall(said: str, halls: Sequence[HallName], *, sound_alike: bool = True) -> HallMatch:
    """The hall(s) ``said`` names. A name inside a longer name of another hall does not count
    (市政务服务中心 in 仁怀市政务服务中心), nor does 遵义 beside a more specific name; with
    ``sound_alike``, a name typed with a homophone (凤岗, 湄谭, 红花冈) is found when no name is
    spelled right."""
    text = _clean(said)
    by_id = [hall for hall in halls if text == hall.id.lower()]
    if by_id:
        return HallMatch(said, tuple(by_id))
    mentions = [
        _Mention(hall, start, start + len(key), weak)
        for hall in halls
        for key, weak in hall.spoken_names()
        for start in _occurrences(text, key)
    ]
    if not mentions and sound_alike:
        mentions = _sound_alike(text, halls)
    if any(not m.weak for m in mentions):
        mentions = [m for m in mentions if not m.weak]
    kept = [m for m in mentions if not any(m.inside(other) for other in mentions)]
    kept.sort(key=lambda m: m.start)
    return HallMatch(said, tuple(dict.fromkeys(m.hall for m in kept)))


def hall_choice(match: HallMatch, offered: Sequence[HallName], service: str | None = None) -> HallChoice:
    """Why the hall cannot be taken and which to choose from: the halls named that offer
    ``service`` when there are several, otherwise every hall that offers it."""
    names = "、".join(hall.name for hall in offered)
    doing = f"办理「{service}」" if service else "办理"
    candidates = tuple(hall for hall in match.halls if hall in offered)
    if match.ambiguous and len(candidates) > 1:
        listed = "、".join(hall.name for hall in candidates[:-1]) + f"或{candidates[-1].name}"
        return HallChoice(f"您说的可能是{listed}，请问去哪一个？", candidates)
    if match.halls:
        missing = "、".join(hall.name for hall in match.halls if hall not in offered)
        if len(candidates) == 1:  # of the halls named, only one offers the service
            return HallChoice(f"{missing}不能预约{doing}，请问是去{candidates[0].name}吗？", candidates)
        return HallChoice(f"{missing}不能预约{doing}。可以预约的大厅有：{names}，请选择：", tuple(offered))
    return HallChoice(
        f"没有找到您说的{_quoted(match.said)}这个政务服务大厅。可以预约{doing}的大厅有：{names}，"
        "请选择（也可以说区县名称，如“汇川”“红花岗”）：",
        tuple(offered),
    )


def hall_names(halls: Iterable[HallLike], aliases: Mapping[str, tuple[str, ...]]) -> list[HallName]:
    return [HallName(hall.id, hall.name, hall.district, aliases.get(hall.id, ())) for hall in halls]


@lru_cache(maxsize=4)
def load_aliases(halls_file: Path) -> dict[str, tuple[str, ...]]:
    """``aliases`` of each hall in knowledge/halls.yaml, by hall id."""
    data = yaml.safe_load(halls_file.read_text(encoding="utf-8")) or {}
    aliases: dict[str, tuple[str, ...]] = {}
    for index, hall in enumerate(data.get("halls") or []):
        names = hall.get("aliases") or []
        if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
            raise ValueError(f"{halls_file}: halls.{index}.aliases 应为非空字符串列表")
        aliases[str(hall["id"])] = tuple(names)
    return aliases


def _clean(text: str) -> str:
    """Full-width forms folded, spaces and punctuation dropped: ＂市 中心＂ → 市中心."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", text or "")).lower()


def _occurrences(text: str, key: str) -> Iterable[int]:
    start = text.find(key)
    while start >= 0:
        yield start
        start = text.find(key, start + 1)


def _quoted(said: str) -> str:
    said = said.strip()
    return f"“{said}”" if 0 < len(said) <= _QUOTE_CHARS else ""


def _sound_alike(text: str, halls: Sequence[HallName]) -> list[_Mention]:
    """Names typed with a homophone by pinyin input: the same toneless pinyin and at least one
    character in the same place (凤岗 → 凤冈, 湄谭 → 湄潭); 2–5 characters, never 遵义."""
    mentions = []
    for run in _CJK.finditer(text):
        syllables = _pinyin(run.group())
        for hall in halls:
            for key, weak in hall.spoken_names():
                if weak or not 2 <= len(key) <= 5 or not _CJK.fullmatch(key):
                    continue
                wanted = _pinyin(key)
                for offset in range(len(syllables) - len(key) + 1):
                    window = run.group()[offset : offset + len(key)]
                    if syllables[offset : offset + len(key)] == wanted and any(
                        a == b for a, b in zip(window, key, strict=True)
                    ):
                        start = run.start() + offset
                        mentions.append(_Mention(hall, start, start + len(key), weak))
    return mentions


@lru_cache(maxsize=1024)
def _pinyin(text: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin  # its dictionaries load on first use, not at import

    syllables = lazy_pinyin(text, style=Style.NORMAL)
    if len(syllables) != len(text):  # a character pypinyin does not know stays itself
        return tuple(lazy_pinyin(char, style=Style.NORMAL)[0] for char in text)
    return tuple(syllables)
