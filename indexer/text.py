"""Text normalisation, jieba segmentation and query expansion — the one tokenizer.

BM25 indexes what ``ChineseTokenizer.tokenize`` returns, for guides and questions
alike, and Rasa's JiebaTokenizer loads the same generated user dictionary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jieba

from indexer.dictionary import DomainDictionary

# The one normalisation, shared with Rasa's NLU (bot/nlu/normalizer.py).
from indexer.normalize import normalize, with_de_dropped

# A token worth indexing holds at least one CJK character, letter or digit.
_MEANINGFUL = re.compile(r"[\u3400-\u9fff\w]")
# An innermost bracketed aside, full-width or not: （示例）, (经营场所).
BRACKETED = re.compile(r"[（(]([^（）()]*)[）)]")


def without_brackets(text: str) -> str:
    """``text`` without its bracketed asides, nested ones included."""
    while (shorter := BRACKETED.sub("", text)) != text:
        text = shorter
    return text


@dataclass(frozen=True)
class ExpandedQuery:
    """A question after synonym expansion.

    ``text`` adds canonical service and aspect words (for BM25); ``dense_text`` adds only the
    service words: aspect words such as 收费标准 would pull any "好多钱" question, in scope
    or not, towards the fee sections and make the dense score useless for "no match"."""

    text: str
    dense_text: str
    added_terms: tuple[str, ...]
    aspects: tuple[str, ...]


class ChineseTokenizer:
    """jieba in search mode over the domain dictionary, minus stop words."""

    def __init__(self, dictionary: DomainDictionary, userdict: Path) -> None:
        if not userdict.exists():
            raise FileNotFoundError(f"jieba 用户词典不存在：{userdict}（先运行 python -m indexer build）")
        self.dictionary = dictionary
        self._jieba = jieba.Tokenizer()
        self._jieba.load_userdict(str(userdict))
        self._variants = dictionary.variant_to_canonical()

    def tokenize(self, text: str) -> list[str]:
        words = self._jieba.cut_for_search(normalize(text).lower())
        return [
            word
            for word in (w.strip() for w in words)
            if word and word not in self.dictionary.stopwords and _MEANINGFUL.search(word)
        ]

    def expand(self, question: str) -> ExpandedQuery:
        """Append the canonical term for every colloquial variant found in the question.

        新农合交好多钱 → 新农合交好多钱 城乡居民基本医疗保险 收费标准, so both BM25 and the
        dense encoder see the words the guides use.
        """
        text = normalize(question)
        remaining = with_de_dropped(text)
        added: list[str] = []
        for variant, canonical in self._variants.items():
            if variant in remaining:
                remaining = remaining.replace(variant, " ")
                if canonical not in added and canonical not in text:
                    added.append(canonical)
        aspects = self.dictionary.aspect_terms
        services = [term for term in added if term not in aspects]
        return ExpandedQuery(
            text=" ".join([text, *added]),
            dense_text=" ".join([text, *services]),
            added_terms=tuple(added),
            aspects=tuple(term for term in added if term in aspects),
        )
