"""One text normalisation for retrieval and for Rasa's NLU: width, script, spaces, fillers, typos.

Residents type 身份證 (traditional), full-width digits, 嗯、那个、你好 before the question, and
pinyin-input slips (身分正, 公基金, 事业金, 户口溥). ``normalize`` fixes the first three;
``TypoCorrector`` maps a slip onto the domain term it sounds like.

This module is imported in both virtual environments (the indexer in .venv, the Rasa
component ``bot.nlu.normalizer`` in .venv-rasa), so it needs only the standard library,
opencc, pypinyin and rapidfuzz, and loads nothing large at import.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import NamedTuple

from opencc import OpenCC
from pypinyin import Style, lazy_pinyin

_SPACES = re.compile(r"\s+")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")

# After NFKC, full-width ，！：； are their ASCII forms; 、。… keep their own.
_PAUSE = r"[\s,、。.!~;:…]"
# Interjections that start no word, removed at the start with or without a pause after them.
_INTERJECTION = r"(?:嗯+|呃+|诶|欸|哎呀|哎哟|哎|唉|啊+)"
# Openers that may follow a filler 那个/就是说/喂 without a pause: 那个我想问… but not 那个大厅….
_OPENER = r"(?:我|你|您|请问|请|麻烦|问一下|问下|想问)"
# 就是说明/说法/说话 are words, not the filler 就是说.
_JIUSHISHUO = r"就是说(?![明法服话得])"
# Greetings count as fillers only before more text, never before 吗/呀 (你好吗 is small talk).
_GREETING = r"(?:你好|您好)(?=[\u3400-\u9fff])(?![吗呀啊呢吖么哇嘛])"
_LEADING_FILLER = re.compile(
    rf"^(?:{_INTERJECTION}{_PAUSE}*"
    rf"|(?:喂+|你好|您好|那个|{_JIUSHISHUO}){_PAUSE}+"
    rf"|{_GREETING}"
    rf"|(?:喂+|那个|{_JIUSHISHUO})(?={_OPENER}|{_INTERJECTION}|你好|您好|那个))"
)
# Between clauses (after a pause mark): 嗯 and 就是说 always, 那个 only before a pause or an
# opener, so ，那个窗口在哪 keeps its determiner.
_CLAUSE_FILLER = re.compile(
    rf"(?<=[,、。!;:])\s*(?:(?:嗯+|呃+|{_JIUSHISHUO}){_PAUSE}*|那个(?:{_PAUSE}+|(?={_OPENER})))"
)
# The clause-final particle 嘛 (咋个办嘛 → 咋个办), not in 干嘛/搞嘛 or after a single character
# (好嘛、是嘛 are whole answers).
_FINAL_MA = re.compile(
    r"(?<=[\u3400-\u9fff][\u3400-\u9fff])(?<![干搞做弄整为啥么什喇])嘛+(?=$|[\s,、。.!?~;:…])"
)
_REPEATED_PAUSE = re.compile(r"([,、。])\s*[,、。]+")
# Something worth keeping after a leading filler: not just 吗/呢/啊 or punctuation.
_CONTENT = re.compile(r"[A-Za-z0-9\u3400-\u9fff](?<![吗呢吧啊呀哦嘛么哈嗯])")


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def _strip_leading_fillers(text: str) -> str:
    while True:
        match = _LEADING_FILLER.match(text)
        if match is None or not _CONTENT.search(text, match.end()):
            return text
        text = text[match.end() :]


def normalize(text: str) -> str:
    """NFKC (full width → half width), traditional → simplified, one space between words,
    and the fillers around a question removed: 喂，你好，那个，身份證咋個辦嘛？ → 身份证咋个办?

    Conservative: a filler is removed only where it cannot be part of the question (那个大厅
    keeps its 那个), never when nothing but particles would be left (嗯 alone still answers
    yes), and question marks and particles such as 吗/呢 stay. Idempotent."""
    text = unicodedata.normalize("NFKC", text)
    text = _t2s().convert(text)
    text = _SPACES.sub(" ", text).strip()
    previous = None
    while previous != text:
        previous = text
        text = _strip_leading_fillers(text)
        text = _CLAUSE_FILLER.sub("", text)
        text = _FINAL_MA.sub("", text)
        text = _REPEATED_PAUSE.sub(r"\1", text).strip()
    return text


class Correction(NamedTuple):
    text: str
    corrections: tuple[tuple[str, str], ...]


# Shortest and longest term the corrector rewrites towards; longer names are still protected.
MIN_TERM_CHARS, MAX_TERM_CHARS = 2, 8
# A near (one-letter) pinyin match needs this many characters: 2-character near matches are
# mostly different words (低保/地宝…).
MIN_NEAR_CHARS = 3
# An exact match this long is not checked for words running across its edges.
STRONG_EXACT_CHARS = 4


# Pinyin input goes wrong one letter at a time in a few known ways (the 模糊音 settings of
# Chinese input methods, plus aspiration): a near match must be one of them. Any other
# one-letter difference is mostly another word (农业农村部 bu is not 农业农村局 ju).
_INITIALS = (
    "zh",
    "ch",
    "sh",
    "b",
    "p",
    "m",
    "f",
    "d",
    "t",
    "n",
    "l",
    "g",
    "k",
    "h",
    "j",
    "q",
    "x",
    "r",
    "z",
    "c",
    "s",
    "y",
    "w",
)
_CONFUSED_INITIALS = frozenset(
    frozenset(pair)
    for pair in (
        ("b", "p"),
        ("d", "t"),
        ("g", "k"),
        ("j", "q"),
        ("z", "c"),
        ("zh", "ch"),
        ("z", "zh"),
        ("c", "ch"),
        ("s", "sh"),
        ("n", "l"),
        ("f", "h"),
        ("r", "l"),
    )
)
_CONFUSED_FINALS = frozenset(
    frozenset(pair)
    for pair in (("an", "ang"), ("en", "eng"), ("in", "ing"), ("ian", "iang"), ("uan", "uang"))
)
# A character jieba counts as a word of its own this often (在、不、把、前、国) is more likely
# meant as itself than as a slip for a term's character (户口溥: 溥 53 times).
STANDALONE_CHAR_FREQUENCY = 1000


def _split_syllable(syllable: str) -> tuple[str, str]:
    initial = next((i for i in _INITIALS if syllable.startswith(i)), "")
    return initial, syllable[len(initial) :]


def _confusable(a: str, b: str) -> bool:
    """Two syllables a pinyin typist mixes up: 簿 bu/溥 pu, 证 zheng/正 zhen, 是 shi/四 si."""
    (initial_a, final_a), (initial_b, final_b) = _split_syllable(a), _split_syllable(b)
    if final_a == final_b:
        return frozenset((initial_a, initial_b)) in _CONFUSED_INITIALS
    return initial_a == initial_b and frozenset((final_a, final_b)) in _CONFUSED_FINALS


class Lexicon:
    """What jieba's dictionary knows: its words as sorted 64-bit hashes (337,000 words in
    2.7 MB instead of about 40 MB of ``str``; hashes are per process, like the lexicon), and
    how often each character stands alone as a word."""

    def __init__(self, words: Iterable[str], char_frequency: dict[str, int] | None = None) -> None:
        self._hashes = array("q", sorted({hash(word) for word in words}))
        self.char_frequency = char_frequency or {}

    def __contains__(self, word: object) -> bool:
        key = hash(word)
        i = bisect_left(self._hashes, key)
        return i < len(self._hashes) and self._hashes[i] == key

    def __len__(self) -> int:
        return len(self._hashes)


@lru_cache(maxsize=1)
def jieba_lexicon() -> Lexicon:
    """Every word of 2–8 characters in jieba's bundled dictionary, at any frequency.

    Among the dictionary words that sound like a domain term, real ones go down to the rarest
    entries (教师证 2 → 驾驶证, 医药局 2 → 医保局, 水务局 9 → 税务局, 质监局 19 → 住建局,
    上下学 10 → 上小学), while the slips worth fixing are not words at all (身分正, 公基金,
    户口溥): no frequency threshold separates them better than none. Read from the file, not
    through jieba (which would build its prefix dictionary), once per process (~0.5 s)."""
    spec = find_spec("jieba")
    if spec is None or spec.origin is None:
        raise RuntimeError("jieba 未安装：纠错需要它的词典文件 jieba/dict.txt")
    words: list[str] = []
    char_frequency: dict[str, int] = {}
    with (Path(spec.origin).parent / "dict.txt").open(encoding="utf-8") as lines:
        for line in lines:
            word, frequency, *_ = line.split(" ")
            if len(word) == 1:
                char_frequency[word] = int(frequency)
            elif len(word) <= MAX_TERM_CHARS:
                words.append(word)
    return Lexicon(words, char_frequency)


def _syllables(text: str) -> list[str]:
    """Toneless pinyin per character; pypinyin reads polyphones in context (银行 hang)."""
    syllables = lazy_pinyin(text, style=Style.NORMAL)
    if len(syllables) != len(text):  # pypinyin kept an unknown character's neighbours together
        return [lazy_pinyin(ch, style=Style.NORMAL)[0] for ch in text]
    return syllables


@dataclass(frozen=True)
class _Target:
    term: str
    syllables: tuple[str, ...]


class TypoCorrector:
    """Rewrites a window of a question that sounds like a domain term into that term.

    For every run of Chinese characters, windows as long as some term (2–8 characters) are
    compared by toneless pinyin: the same pinyin, or for terms of three characters or more
    one syllable one letter apart the way pinyin typing goes wrong (户口溥 pu → 户口簿 bu),
    replaces the window. Longer terms win. Every correction keeps at least one character of
    its term in place: a window that merely sounds like a term is another word (胡兆 is a
    name, not 护照).

    Never rewritten, because each is likelier meant as typed:
    - a window cutting into a term already spelled right (it may hold one whole:
      不动产登计 → 不动产登记);
    - a word (事业、失业、公积、教师证: ``lexicon``, by default jieba's dictionary), and for a
      near match a differing character that makes a word with its neighbour (住房证明 is
      not 租房证明);
    - a window cutting a word at its edge (公安户政 is 公安 + 户政, not 公安局 + 政;
      户口不在 is 户口 + 不在), unless it sounds exactly like a term of four characters or more;
    - a word after one differing character that is a common word by itself (在公司 is
      在 + 公司, not 开公司; 入伍前户口 is not 迁户口);
    - digits and Latin letters.
    """

    def __init__(self, terms: Iterable[str], lexicon: Lexicon | None = None) -> None:
        self.terms = frozenset(term.strip() for term in terms if len(term.strip()) >= MIN_TERM_CHARS)
        self.lexicon = jieba_lexicon() if lexicon is None else lexicon
        self._by_first_char: dict[str, list[str]] = {}
        for term in sorted(self.terms, key=lambda term: (-len(term), term)):
            self._by_first_char.setdefault(term[0], []).append(term)
        # Every correction keeps a character of its term in place, so each character of a
        # question points at the few windows worth comparing: character → (length, position,
        # target) for every target holding it.
        self._slots: dict[str, list[tuple[int, int, _Target]]] = {}
        for term in sorted(self.terms):
            if MIN_TERM_CHARS <= len(term) <= MAX_TERM_CHARS and _CJK_RUN.fullmatch(term):
                target = _Target(term, tuple(_syllables(term)))
                for i, ch in enumerate(term):
                    self._slots.setdefault(ch, []).append((len(term), i, target))

    @classmethod
    def from_file(cls, path: Path, lexicon: Lexicon | None = None) -> TypoCorrector:
        if not path.exists():
            raise FileNotFoundError(f"纠错词表不存在：{path}（先运行 python -m indexer build）")
        return cls(read_terms(path), lexicon)

    def correct(self, text: str) -> Correction:
        """``text`` with every slip replaced, and the (wrong, right) pairs in text order."""
        spelled_right = self._spelled_right(text)
        taken = bytearray(len(text))
        fixes: list[tuple[int, int, str]] = []
        for run in _CJK_RUN.finditer(text):
            windows = self._windows(run.group())
            if not windows:
                continue
            syllables = _syllables(run.group())
            for (minus_length, offset), targets in sorted(windows.items()):
                start, end = run.start() + offset, run.start() + offset - minus_length
                if any(taken[start:end]) or _cuts_into(start, end, spelled_right):
                    continue
                window_syllables = tuple(syllables[offset : offset - minus_length])
                term = self._match(text, start, end, window_syllables, targets)
                if term is not None:
                    fixes.append((start, end, term))
                    taken[start:end] = b"\x01" * (end - start)
        if not fixes:
            return Correction(text, ())
        fixes.sort()
        pieces: list[str] = []
        corrections: list[tuple[str, str]] = []
        cursor = 0
        for start, end, term in fixes:
            pieces += [text[cursor:start], term]
            corrections.append((text[start:end], term))
            cursor = end
        pieces.append(text[cursor:])
        return Correction("".join(pieces), tuple(corrections))

    def _windows(self, run: str) -> dict[tuple[int, int], dict[_Target, None]]:
        """(−length, offset) → targets of that length keeping one of the window's characters
        in place; sorted, the keys put longer windows first."""
        windows: dict[tuple[int, int], dict[_Target, None]] = {}
        for p, ch in enumerate(run):
            for length, i, target in self._slots.get(ch, ()):
                offset = p - i
                if offset >= 0 and offset + length <= len(run):
                    windows.setdefault((-length, offset), {})[target] = None
        return windows

    def _spelled_right(self, text: str) -> list[tuple[int, int]]:
        """Spans of the terms already in ``text``, the longest at each position."""
        spans: list[tuple[int, int]] = []
        for start, ch in enumerate(text):
            for term in self._by_first_char.get(ch, ()):
                if text.startswith(term, start):
                    spans.append((start, start + len(term)))
                    break
        return spans

    def _match(
        self, text: str, start: int, end: int, syllables: tuple[str, ...], targets: Iterable[_Target]
    ) -> str | None:
        window = text[start:end]
        if window in self.terms:
            return None
        candidates = [t for t in targets if t.syllables == syllables]
        if not candidates and len(window) >= MIN_NEAR_CHARS:
            candidates = [t for t in targets if self._near(window, syllables, t.syllables)]
        if not candidates:
            return None
        # Of several terms that sound alike, the one sharing most characters with the window.
        term = max(candidates, key=lambda t: (_shared_chars(window, t.term), t.term)).term
        if window in self.lexicon:
            return None
        # Four characters sounding exactly like a term outweigh a rare word across the edge
        # (结昏登记要… is not 记要, a variant of 纪要).
        exact = candidates[0].syllables == syllables
        if not (exact and len(window) >= STRONG_EXACT_CHARS) and self._cuts_a_word(text, start, end):
            return None
        if self._word_after_standalone_char(window, term):
            return None
        return term

    def _near(self, window: str, syllables: tuple[str, ...], target: tuple[str, ...]) -> bool:
        """One syllable differs, in a way pinyin typing goes wrong, and its character is not
        part of a word in the window (住房证明 is not a slip for 租房证明)."""
        differing = [i for i, (a, b) in enumerate(zip(syllables, target, strict=True)) if a != b]
        if len(differing) != 1:
            return False
        i = differing[0]
        return _confusable(syllables[i], target[i]) and not (
            window[max(i - 1, 0) : i + 1] in self.lexicon or window[i : i + 2] in self.lexicon
        )

    def _cuts_a_word(self, text: str, start: int, end: int) -> bool:
        """A word of 2–4 characters runs across the window's first or last character."""
        return any(text[start - k : start + 1] in self.lexicon for k in range(1, 4) if start - k >= 0) or any(
            text[end - 1 : end + k] in self.lexicon for k in range(1, 4) if end + k <= len(text)
        )

    def _word_after_standalone_char(self, window: str, term: str) -> bool:
        """Only the first character differs, it is a common word by itself and the rest is a
        word: 在公司 is 在 + 公司, 前户口 is 前 + 户口."""
        if window[0] == term[0] or window[1:] != term[1:]:
            return False
        return (
            len(window) > MIN_TERM_CHARS
            and window[1:] in self.lexicon
            and self.lexicon.char_frequency.get(window[0], 0) >= STANDALONE_CHAR_FREQUENCY
        )


def _cuts_into(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """The window overlaps a term already spelled right without holding all of it: it may
    grow a right term into a longer one (不动产登计 → 不动产登记) but never change one."""
    return any(s < end and start < e and not (start <= s and e <= end) for s, e in spans)


def _shared_chars(window: str, term: str) -> int:
    return sum(a == b for a, b in zip(window, term, strict=True))


def read_terms(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_terms(path: Path, terms: Iterable[str]) -> Path:
    """One term per line, sorted, for ``TypoCorrector.from_file`` in either environment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{term}\n" for term in sorted(set(terms))), encoding="utf-8")
    return path


def with_de_dropped(text: str) -> str:
    """``text`` followed by itself without 的, so a term said with a 的 inside is still found
    (护理的补贴 → 护理补贴, 出生的证明 → 出生证明)."""
    dropped = text.replace("的", "")
    return text if dropped == text else f"{text} {dropped}"
