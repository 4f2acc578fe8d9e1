"""Reciprocal-rank fusion of the BM25 and dense rankings, then one hit per document."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class FusedChunk:
    position: int
    score: float
    bm25_rank: int | None
    dense_rank: int | None


def reciprocal_rank_fusion(
    bm25_ids: Sequence[int],
    dense_ids: Sequence[int],
    *,
    k: int = 60,
    bm25_weight: float = 1.0,
    dense_weight: float = 1.0,
) -> list[FusedChunk]:
    """Score = Σ weight / (k + rank) over the rankings a chunk appears in (ranks start at 1)."""
    bm25_rank = {chunk: rank for rank, chunk in enumerate(bm25_ids, 1)}
    dense_rank = {chunk: rank for rank, chunk in enumerate(dense_ids, 1)}
    fused = []
    for chunk in bm25_rank.keys() | dense_rank.keys():
        b, d = bm25_rank.get(chunk), dense_rank.get(chunk)
        score = (bm25_weight / (k + b) if b else 0.0) + (dense_weight / (k + d) if d else 0.0)
        fused.append(FusedChunk(chunk, score, b, d))
    fused.sort(key=lambda item: (-item.score, item.position))
    return fused


def reweight(fused: Sequence[FusedChunk], weight_of: Callable[[int], float]) -> list[FusedChunk]:
    """Multiply each chunk's fused score by a prior (e.g. for a service the question names), re-sort."""
    weighted = [replace(item, score=item.score * weight_of(item.position)) for item in fused]
    weighted.sort(key=lambda item: (-item.score, item.position))
    return weighted


def best_per_document(fused: Sequence[FusedChunk], doc_of: Sequence[str]) -> list[FusedChunk]:
    """Keep each document's best chunk, in fused order; its rank carries the document."""
    seen: set[str] = set()
    best = []
    for item in fused:
        doc = doc_of[item.position]
        if doc not in seen:
            seen.add(doc)
            best.append(item)
    return best
