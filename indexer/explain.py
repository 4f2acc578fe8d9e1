"""Why retrieval ranks what it ranks for one question (the workbench's 命中测试): the text as the
searcher reads it, and for each document its hybrid, BM25 and dense rank and score.

It repeats the searcher's first steps (normalise, correct, expand, tokenise, both retrievers)
without filters, then takes the hybrid ranking from ``Searcher.search`` itself, so what it shows
is what residents get.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexer.search import Searcher, SearchResult
from indexer.text import normalize


@dataclass(frozen=True)
class DocumentRanks:
    """One document's place in each ranking (1-based; None: not among the candidates)."""

    doc_id: str
    kind: str
    title: str
    hybrid_rank: int | None
    hybrid_score: float | None
    section_label: str | None  # the section the hybrid hit would answer from
    bm25_rank: int | None
    bm25_score: float | None  # the BM25 score of the document's best chunk
    dense_rank: int | None
    dense_score: float | None  # cosine of the document's closest chunk


@dataclass(frozen=True)
class Explanation:
    query: str
    normalized: str  # width, script (繁→简), fillers: before typo correction
    corrected: str  # what is searched
    corrections: tuple[tuple[str, str], ...]
    bm25_text: str  # with the canonical words synonyms added
    dense_text: str
    tokens: tuple[str, ...]
    linked_guides: tuple[str, ...]
    asked_section: str | None
    result: SearchResult  # the hybrid search, as residents get it
    documents: tuple[DocumentRanks, ...]
    min_dense_score: float
    min_situation_dense_score: float


def explain(searcher: Searcher, query: str, k: int = 10) -> Explanation:
    """Raises ``QueryError`` for an empty question, as ``Searcher.search`` does."""
    result = searcher.search(query, k)
    cfg = searcher.settings
    normalized = normalize(query[: cfg.max_query_chars])
    corrected, corrections = searcher.corrector.correct(normalized)
    expanded = searcher.tokenizer.expand(corrected)
    tokens = searcher.tokenizer.tokenize(expanded.text)
    bm25_ids, bm25_scores = searcher.bm25.top(tokens, cfg.candidates)
    dense_scores, dense_ids = searcher.dense.search(
        searcher.encoder.encode_queries([expanded.dense_text]), cfg.candidates
    )
    bm25 = _per_document(searcher, bm25_ids, bm25_scores)
    dense = _per_document(searcher, dense_ids[0], dense_scores[0])
    hybrid = {hit.doc_id: (rank, hit) for rank, hit in enumerate(result.hits, 1)}
    wanted = list(hybrid) + [doc for doc in list(bm25)[:k] + list(dense)[:k] if doc not in hybrid]
    documents = []
    for doc_id in dict.fromkeys(wanted):
        chunk = searcher.document_chunk(doc_id)
        rank, hit = hybrid.get(doc_id, (None, None))
        b_rank, b_score = bm25.get(doc_id, (None, None))
        d_rank, d_score = dense.get(doc_id, (None, None))
        documents.append(
            DocumentRanks(
                doc_id=doc_id,
                kind=chunk.kind if chunk else "",
                title=hit.title if hit else (chunk.title if chunk else doc_id),
                hybrid_rank=rank,
                hybrid_score=hit.score if hit else None,
                section_label=hit.section_label if hit else None,
                bm25_rank=b_rank,
                bm25_score=b_score,
                dense_rank=d_rank,
                dense_score=d_score,
            )
        )
    return Explanation(
        query=query,
        normalized=normalized,
        corrected=corrected,
        corrections=corrections,
        bm25_text=expanded.text,
        dense_text=expanded.dense_text,
        tokens=tuple(tokens),
        linked_guides=result.linked_guides,
        asked_section=result.asked_section,
        result=result,
        documents=tuple(documents),
        min_dense_score=cfg.min_dense_score,
        min_situation_dense_score=cfg.min_situation_dense_score,
    )


def _per_document(searcher: Searcher, ids: np.ndarray, scores: np.ndarray) -> dict[str, tuple[int, float]]:
    """Document → (rank among documents, score of its best chunk), best first."""
    best: dict[str, tuple[int, float]] = {}
    for position, score in zip(ids, scores, strict=True):
        if position < 0:
            continue
        doc_id = searcher.chunks[int(position)].doc_id
        if doc_id not in best:
            best[doc_id] = (len(best) + 1, round(float(score), 4))
    return best
