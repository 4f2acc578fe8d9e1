"""The domain dictionary: curated terms and synonyms plus what the guides contribute.

One generated jieba user dictionary (``userdict.txt``) is written for both the indexer
and Rasa's JiebaTokenizer, so service names, departments, 县区 and 证照 names are never
cut apart, wherever text is segmented.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from indexer.bundle_schema import Bundle
from indexer.normalize import with_de_dropped
from indexer.schema import Guide

USERDICT_NAME = "userdict.txt"
# Beside the index, not in the jieba folder: Rasa's JiebaTokenizer loads every file there.
TYPO_TERMS_NAME = "typo_terms.txt"
# High enough that jieba prefers the whole term over any split of it.
TERM_FREQUENCY = 2_000_000


@dataclass(frozen=True)
class DomainDictionary:
    """Everything the tokenizer and query expansion need, built once per index."""

    terms: frozenset[str]
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    stopwords: frozenset[str] = frozenset()
    aspect_terms: frozenset[str] = field(
        default=frozenset(),
        metadata={"doc": "canonical aspect words (申请材料、收费标准…) a question may ask for"},
    )
    guide_links: dict[str, tuple[str, ...]] = field(
        default_factory=dict, metadata={"doc": "term → ids of the guides it names (name, alias or synonym)"}
    )
    policy_topics: frozenset[str] = field(
        default=frozenset(),
        metadata={"doc": "words of questions about how government services work (跑几次、容缺、代办…)"},
    )
    bundle_links: dict[str, tuple[str, ...]] = field(
        default_factory=dict, metadata={"doc": "term → ids of the 一件事 bundles it names (name or alias)"}
    )

    def residue(self, text: str) -> str:
        """What is left of ``text`` once the services it names and the aspects it asks for
        (好多钱、带哪样…) are taken out: the story a resident tells, if any."""
        remaining = text
        words = [
            *self.guide_links,
            *self.aspect_terms,
            *(v for a in self.aspect_terms for v in self.synonyms.get(a, ())),
        ]
        for word in sorted(set(words), key=lambda word: (-len(word), word)):
            remaining = remaining.replace(word, " ")
        return remaining

    def asks_about_policy(self, text: str) -> bool:
        return any(word in text for word in self.policy_topics)

    def variant_to_canonical(self) -> dict[str, str]:
        """Longest variants first, so 新农合 wins over 农合 when both appear."""
        pairs = {variant: canonical for canonical, variants in self.synonyms.items() for variant in variants}
        return dict(sorted(pairs.items(), key=lambda item: -len(item[0])))

    def linked_guides(self, text: str) -> tuple[str, ...]:
        """Guides named in ``text``, longest term first so 居住证明 is not read as 居住证."""
        found: list[str] = []
        remaining = with_de_dropped(text)
        for term in sorted(self.guide_links, key=len, reverse=True):
            if term in remaining:
                remaining = remaining.replace(term, " ")
                found += [gid for gid in self.guide_links[term] if gid not in found]
        return tuple(found)

    def linked_bundles(self, text: str) -> tuple[str, ...]:
        """一件事 bundles named in ``text`` by their name or a colloquial alias (生娃娃、开个饭馆)."""
        found: list[str] = []
        for term in sorted(self.bundle_links, key=len, reverse=True):
            if term in text:
                found += [bid for bid in self.bundle_links[term] if bid not in found]
        return tuple(found)

    def typo_terms(self) -> list[str]:
        """What a slip is corrected towards (``indexer.normalize.TypoCorrector``): every term
        (service names, their cores and aliases, synonym groups, curated terms), but not the
        colloquial aspect phrases, which sound like one another (好多天 → 好多钱)."""
        return sorted(term for term in self.terms | set(self.guide_links) if " " not in term)

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for word in sorted(self.terms):
            digest.update(word.encode())
        for canonical in sorted(self.synonyms):
            digest.update(f"{canonical}={','.join(self.synonyms[canonical])}".encode())
        for word in sorted(self.stopwords):
            digest.update(f"!{word}".encode())
        for word in sorted(self.policy_topics):
            digest.update(f"?{word}".encode())
        for word in sorted(self.bundle_links):
            digest.update(f"@{word}={','.join(self.bundle_links[word])}".encode())
        return digest.hexdigest()[:16]

    def write_userdict(self, directory: Path) -> Path:
        """Write the jieba user dictionary; Rasa's JiebaTokenizer loads every file in ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / USERDICT_NAME
        lines = [f"{word} {TERM_FREQUENCY} n" for word in sorted(self.terms) if " " not in word]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: 应为 YAML 映射")
    return data


def _synonym_table(section: object) -> dict[str, tuple[str, ...]]:
    if not section:
        return {}
    if not isinstance(section, dict):
        raise ValueError("synonyms.yaml: services/aspects 应为“规范词: [说法…]”的映射")
    return {str(canonical): tuple(str(v) for v in variants or []) for canonical, variants in section.items()}


def load_dictionary(
    dictionary_dir: Path, guides: Iterable[Guide] = (), bundles: Iterable[Bundle] = ()
) -> DomainDictionary:
    """Merge the curated files in ``dictionary_dir`` with the guides' and bundles' names and aliases."""
    curated = _read_yaml(dictionary_dir / "terms.yaml")
    terms: set[str] = set()
    for words in curated.values():
        terms.update(str(word) for word in words or [])

    synonym_file = _read_yaml(dictionary_dir / "synonyms.yaml")
    service_synonyms = _synonym_table(synonym_file.get("services"))
    aspect_synonyms = _synonym_table(synonym_file.get("aspects"))

    guide_list = list(guides)
    service_terms: set[str] = set(curated.get("licenses") or [])
    for guide in guide_list:
        service_terms.add(guide.name)
        service_terms.update(name_cores(guide.name))
        service_terms.update(guide.aliases)
    for canonical, variants in service_synonyms.items():
        service_terms.add(canonical)
        service_terms.update(variants)
    terms |= service_terms
    terms.update(aspect_synonyms)
    bundle_links: dict[str, list[str]] = {}
    for bundle in bundles:
        for term in (bundle.name, *bundle.aliases):
            if bundle.id not in bundle_links.setdefault(term, []):
                bundle_links[term].append(bundle.id)
    terms.update(bundle_links)

    stopword_file = dictionary_dir / "stopwords.txt"
    stopwords = (
        {line.strip() for line in stopword_file.read_text(encoding="utf-8").splitlines() if line.strip()}
        if stopword_file.exists()
        else set()
    )
    return DomainDictionary(
        terms=frozenset(terms),
        synonyms={**service_synonyms, **aspect_synonyms},
        stopwords=frozenset(stopwords),
        aspect_terms=frozenset(aspect_synonyms),
        guide_links=_guide_links(guide_list, service_synonyms),
        policy_topics=frozenset(str(word) for word in curated.get("policy_topics") or []),
        bundle_links={term: tuple(ids) for term, ids in bundle_links.items()},
    )


_NAME_ACTIONS = (
    "换领补领",
    "汇算清缴",
    "参保缴费",
    "参保登记",
    "设立登记",
    "成立登记",
    "救助供养申请",
    "申领",
    "办理",
    "申请",
    "核发",
    "开具",
    "签发",
    "换证",
    "提取",
    "公示",
    "登记",
)


def _without_action(term: str) -> str:
    for action in _NAME_ACTIONS:
        if term.endswith(action):
            return term[: -len(action)]
    return term


def name_cores(name: str) -> list[str]:
    """What residents call a service: its name without the action word or the bracketed
    qualifier (居住证申领 → 居住证; 出生登记(新生儿入户) → 出生登记, 新生儿入户). Cores shorter
    than three characters (出生, 结婚) are too common to name one service and are left out."""
    match = re.match(r"^(.*?)\((.*?)\)(.*)$", name)
    base = match.group(1) + match.group(3) if match else name
    qualifier = match.group(2) if match and not match.group(3) else ""
    candidates = [base, _without_action(base), _without_action(qualifier)]
    cores: list[str] = []
    for term in candidates:
        if len(term) >= 3 and term != name and term not in cores:
            cores.append(term)
    return cores


def _guide_links(
    guides: list[Guide], service_synonyms: dict[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """A guide is named by its name and aliases, and by a synonym group whose canonical term
    appears in its name or aliases (新农合 → 城乡居民基本医疗保险 → 城乡居民基本医疗保险参保缴费)."""
    links: dict[str, list[str]] = {}
    for guide in guides:
        own_terms = [guide.name, *name_cores(guide.name), *guide.aliases]
        linked_terms = list(own_terms)
        for canonical, variants in service_synonyms.items():
            if any(canonical in term for term in own_terms):
                linked_terms += [canonical, *variants]
        for term in linked_terms:
            if guide.id not in links.setdefault(term, []):
                links[term].append(guide.id)
    return {term: tuple(ids) for term, ids in links.items()}
