"""Hybrid search over a built index: BM25 + dense, fused, one hit per document."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from core.settings import IndexSettings
from indexer.bm25 import BM25Index
from indexer.bundle_schema import Bundle
from indexer.chunks import SECTION_LABELS, SECTION_OF_LABEL, Chunk, faq_of_chunk, situation_of_chunk
from indexer.encoder import DenseEncoder
from indexer.fusion import FusedChunk, best_per_document, reciprocal_rank_fusion, reweight
from indexer.normalize import TypoCorrector
from indexer.schema import Guide
from indexer.store import IndexPaths, read_chunks, read_dictionary, read_manifest
from indexer.text import ChineseTokenizer, normalize
from indexer.vector_index import VectorIndex

_MEANINGFUL_CHARS = ("\u3400", "\u9fff")
# The dictionary's aspect for asking what a whole life event takes (办哪些、哪些手续、从头到尾).
WHOLE_EVENT = "一件事"


Retrievers = Literal["hybrid", "bm25", "dense"]


class QueryError(ValueError):
    """A question that cannot be searched; the message is fit to show a resident."""


class IndexNotBuiltError(RuntimeError):
    pass


@dataclass(frozen=True)
class SearchFilters:
    kinds: frozenset[str] | None = None
    doc_ids: frozenset[str] | None = None
    sections: frozenset[str] | None = None

    def admits(self, chunk: Chunk) -> bool:
        return (
            (self.kinds is None or chunk.kind in self.kinds)
            and (self.doc_ids is None or chunk.doc_id in self.doc_ids)
            and (self.sections is None or chunk.section in self.sections)
        )


@dataclass(frozen=True)
class SearchHit:
    doc_id: str
    kind: str
    title: str
    section: str
    section_label: str
    score: float
    text: str
    bm25_rank: int | None
    dense_rank: int | None
    dense_score: float | None
    situation: str | None = None
    situation_score: float | None = None
    situation_margin: float | None = None
    faq: int | None = None  # 1-based position in the guide's faqs of its closest FAQ
    faq_score: float | None = None


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[SearchHit]
    confident: bool
    truncated: bool = False
    reason: str | None = None
    linked_guides: tuple[str, ...] = field(default_factory=tuple)
    asked_section: str | None = None
    # (as typed, as read) for each slip corrected in the query: ("身分正", "身份证").
    corrections: tuple[tuple[str, str], ...] = ()
    linked_bundles: tuple[str, ...] = ()  # 一件事 the words name (生娃娃、开个饭馆)

    def to_json(self) -> dict:
        return {
            "query": self.query,
            "confident": self.confident,
            "reason": self.reason,
            "truncated": self.truncated,
            "linked_guides": list(self.linked_guides),
            "linked_bundles": list(self.linked_bundles),
            "asked_section": self.asked_section,
            "corrections": [list(pair) for pair in self.corrections],
            "results": [hit.__dict__ for hit in self.hits],
        }


def _has_text(text: str) -> bool:
    return any(ch.isalnum() or _MEANINGFUL_CHARS[0] <= ch <= _MEANINGFUL_CHARS[1] for ch in text)


class Searcher:
    """Loaded once per process; thread-safe for reads."""

    def __init__(self, settings: IndexSettings, encoder: DenseEncoder) -> None:
        paths = IndexPaths(settings.index_dir)
        manifest = read_manifest(paths)
        if manifest is None:
            raise IndexNotBuiltError(f"索引尚未构建：{settings.index_dir}（运行 python -m indexer build）")
        if manifest.model_id != encoder.model_id:
            raise IndexNotBuiltError(
                f"索引由模型 {manifest.model_id} 构建，当前设置为 {encoder.model_id}："
                "请重新运行 python -m indexer build"
            )
        self.settings = settings
        self.manifest = manifest
        self.encoder = encoder
        self.chunks = read_chunks(paths)
        self._doc_of = [chunk.doc_id for chunk in self.chunks]
        self._is_situation = [situation_of_chunk(chunk.chunk_id) is not None for chunk in self.chunks]
        self._section_position = {
            (chunk.doc_id, chunk.section): i for i, chunk in reversed(list(enumerate(self.chunks)))
        }
        self.tokenizer = ChineseTokenizer(read_dictionary(paths), paths.userdict_dir / "userdict.txt")
        self.corrector = TypoCorrector(self.tokenizer.dictionary.typo_terms())
        self.bm25 = BM25Index.load(paths.bm25)
        self.dense = VectorIndex.load(paths.faiss, nprobe=settings.ivf_nprobe)
        raw_guides = json.loads(paths.guides.read_text(encoding="utf-8"))
        self.guides: dict[str, Guide] = {gid: Guide.model_validate(data) for gid, data in raw_guides.items()}
        self._guide_by_name = {guide.name: guide for guide in self.guides.values()}
        raw_bundles = json.loads(paths.bundles.read_text(encoding="utf-8")) if paths.bundles.exists() else {}
        self.bundles: dict[str, Bundle] = {
            bid: Bundle.model_validate(data) for bid, data in raw_bundles.items()
        }
        self._bundle_by_name = {bundle.name: bundle for bundle in self.bundles.values()}

    def warm_up(self) -> None:
        self.encoder.warm_up()
        self.search("高龄补贴要带哪些材料", k=1)

    def document_chunk(self, doc_id: str) -> Chunk | None:
        """The first chunk of a document: for a policy item, the item's own text."""
        position = next((i for i, doc in enumerate(self._doc_of) if doc == doc_id), None)
        return None if position is None else self.chunks[position]

    def guide(self, id_or_name: str) -> Guide | None:
        return self.guides.get(id_or_name) or self._guide_by_name.get(id_or_name)

    def bundle(self, id_or_name: str) -> Bundle | None:
        return self.bundles.get(id_or_name) or self._bundle_by_name.get(id_or_name)

    def _mask(self, filters: SearchFilters | None) -> np.ndarray | None:
        if filters is None:
            return None
        return np.fromiter((filters.admits(c) for c in self.chunks), dtype=bool, count=len(self.chunks))

    def search(
        self,
        query: str,
        k: int = 5,
        filters: SearchFilters | None = None,
        *,
        retrievers: Retrievers = "hybrid",
    ) -> SearchResult:
        """The k best documents for ``query``, each with its best-matching section.

        ``retrievers`` other than hybrid exist for the benchmark, which compares each alone."""
        if not isinstance(query, str) or not query.strip():
            raise QueryError("问题不能为空，请输入您想办理的事项或问题。")
        if k < 1:
            raise QueryError("k 应为正整数")
        cfg = self.settings
        truncated = len(query) > cfg.max_query_chars
        text, corrections = self.corrector.correct(normalize(query[: cfg.max_query_chars]))
        if not _has_text(text):
            return SearchResult(query, [], False, truncated, "问题里没有可识别的文字")

        expanded = self.tokenizer.expand(text)
        mask = self._mask(filters)
        pool = cfg.candidates if mask is None else min(len(self.chunks), cfg.candidates * 20)

        bm25_ids, _ = self.bm25.top(
            self.tokenizer.tokenize(expanded.text), pool, None if mask is None else mask.astype(np.float32)
        )
        query_vector = self.encoder.encode_queries([expanded.dense_text])
        dense_scores, dense_ids = self.dense.search(query_vector, pool)
        dense_pairs = [
            (int(i), float(s))
            for i, s in zip(dense_ids[0], dense_scores[0], strict=True)
            if i >= 0 and (mask is None or mask[i])
        ][: cfg.candidates]
        dense_score_of = dict(dense_pairs)

        fused = reciprocal_rank_fusion(
            [int(i) for i in bm25_ids[: cfg.candidates]] if retrievers != "dense" else [],
            [i for i, _ in dense_pairs] if retrievers != "bm25" else [],
            k=cfg.rrf_k,
            bm25_weight=cfg.bm25_weight,
            dense_weight=cfg.dense_weight,
        )
        linked = self.tokenizer.dictionary.linked_guides(text)
        bundles = self.tokenizer.dictionary.linked_bundles(text)
        asks_policy = self.tokenizer.dictionary.asks_about_policy(text)
        # 办哪些手续 asks what an event takes; 能办哪些事、能不能一起办 about how services work does not.
        asks_whole = (WHOLE_EVENT in text or WHOLE_EVENT in expanded.aspects) and not asks_policy
        fused = reweight(fused, self._prior(linked, bundles, asks_whole, asks_policy))
        asked_section = next((SECTION_OF_LABEL[a] for a in expanded.aspects if a in SECTION_OF_LABEL), None)
        situations = self._best_situations(fused, dense_score_of)
        faqs = self._best_faqs(fused, dense_score_of)
        hits = [
            self._hit(
                self._section_chunk(item.position, asked_section),
                item.score,
                item.bm25_rank,
                item.dense_rank,
                dense_score_of.get(item.position),
                situations.get(self._doc_of[item.position]),
                faqs.get(self._doc_of[item.position]),
            )
            for item in best_per_document(fused, self._doc_of)[:k]
        ]

        confident, reason = self._confidence(dense_pairs, bool(linked or bundles), bool(hits))
        return SearchResult(
            query,
            hits,
            confident,
            truncated,
            reason,
            linked,
            asked_section,
            corrections=corrections,
            linked_bundles=bundles,
        )

    def _best_situations(
        self, fused: list[FusedChunk], dense_score_of: dict[int, float]
    ) -> dict[str, tuple[str, float, float]]:
        """Per guide: the situation whose descriptions came closest (dense cosine), its score,
        and its margin over the guide's next situation. A question that only names the service
        is about as close to all of its situations; one that tells a story stands out."""
        scores: dict[str, dict[str, float]] = {}
        for item in fused:
            chunk = self.chunks[item.position]
            situation = situation_of_chunk(chunk.chunk_id)
            if situation is None:
                continue
            score = dense_score_of.get(item.position, 0.0)
            of_doc = scores.setdefault(chunk.doc_id, {})
            of_doc[situation] = max(score, of_doc.get(situation, 0.0))
        best: dict[str, tuple[str, float, float]] = {}
        for doc_id, by_situation in scores.items():
            ranked = sorted(by_situation.items(), key=lambda pair: -pair[1])
            runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
            best[doc_id] = (ranked[0][0], ranked[0][1], ranked[0][1] - runner_up)
        return best

    def _best_faqs(
        self, fused: list[FusedChunk], dense_score_of: dict[int, float]
    ) -> dict[str, tuple[int, float]]:
        """Per guide: its FAQ closest to the question (dense cosine) and that score."""
        best: dict[str, tuple[int, float]] = {}
        for item in fused:
            chunk = self.chunks[item.position]
            faq = faq_of_chunk(chunk.chunk_id)
            score = dense_score_of.get(item.position)
            if faq is None or score is None:
                continue
            if chunk.doc_id not in best or score > best[chunk.doc_id][1]:
                best[chunk.doc_id] = (faq, score)
        return best

    def _section_chunk(self, position: int, section: str | None) -> int:
        """The chunk of the same guide for the section the question asks about (好多钱 → 收费标准),
        else the chunk that matched best."""
        if section is None:
            return position
        return self._section_position.get((self.chunks[position].doc_id, section), position)

    def _prior(
        self, linked: tuple[str, ...], bundles: tuple[str, ...], asks_whole: bool, asks_policy: bool
    ) -> Callable[[int], float]:
        """Guides the question names are likelier; so is a life event it names (生娃娃、开个饭馆),
        unless it also names a service and does not ask what the whole event takes (开饭馆要办
        食品经营许可证吗 is about that service). Asking what a whole event takes (办哪些手续) makes
        every event likelier. The city's plan is likelier only for questions about how government
        services work (跑几次、容缺、代办…); a resident describing their own situation without
        naming a service wants a service, not the plan."""
        linked_set = set(linked) | (set(bundles) if asks_whole or not linked else set())
        cfg = self.settings
        policy_prior = cfg.policy_prior_without_service if asks_policy else cfg.policy_prior_without_topic

        def weight(position: int) -> float:
            chunk = self.chunks[position]
            if chunk.doc_id in linked_set:
                return cfg.linked_guide_boost * (
                    cfg.bundle_prior_asking_whole if asks_whole and chunk.kind == "bundle" else 1.0
                )
            if asks_whole and chunk.kind == "bundle":
                return cfg.bundle_prior_asking_whole
            if chunk.kind == "policy" and not linked_set:
                return policy_prior
            return 1.0

        return weight

    def _confidence(
        self, dense_pairs: list[tuple[int, float]], names_service: bool, any_hit: bool
    ) -> tuple[bool, str | None]:
        """Confident when the question names a service we have a guide for, or is close enough
        to some guide text; otherwise say so rather than offer an unrelated guide.

        Situation descriptions are short colloquial sentences, and any short question lies
        closer to them than to a guide's prose, so they have a threshold of their own."""
        if not any_hit:
            return False, "没有找到相关内容"
        cfg = self.settings
        close = any(
            score >= (cfg.min_situation_dense_score if self._is_situation[position] else cfg.min_dense_score)
            for position, score in dense_pairs
        )
        if names_service or close:
            return True, None
        return False, "没有足够把握的匹配"

    def _hit(
        self,
        position: int,
        score: float,
        bm25_rank: int | None,
        dense_rank: int | None,
        dense_score: float | None,
        situation: tuple[str, float, float] | None = None,
        faq: tuple[int, float] | None = None,
    ) -> SearchHit:
        chunk = self.chunks[position]
        return SearchHit(
            doc_id=chunk.doc_id,
            kind=chunk.kind,
            title=chunk.title,
            section=chunk.section,
            section_label=SECTION_LABELS.get(chunk.section, chunk.section),
            score=round(score, 6),
            text=chunk.text,
            bm25_rank=bm25_rank,
            dense_rank=dense_rank,
            dense_score=None if dense_score is None else round(dense_score, 4),
            situation=situation[0] if situation else None,
            situation_score=round(situation[1], 4) if situation else None,
            situation_margin=round(situation[2], 4) if situation else None,
            faq=faq[0] if faq else None,
            faq_score=round(faq[1], 4) if faq else None,
        )
