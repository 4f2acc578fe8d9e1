"""BM25 over pre-tokenised chunks, backed by bm25s."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np


class BM25Index:
    """Scores every chunk for a tokenised question; the tokens come from ``ChineseTokenizer``."""

    def __init__(self, retriever: bm25s.BM25) -> None:
        self._retriever = retriever

    @classmethod
    def build(cls, corpus_tokens: list[list[str]]) -> BM25Index:
        if not corpus_tokens:
            raise ValueError("corpus is empty")
        retriever = bm25s.BM25()
        retriever.index(corpus_tokens, show_progress=False)
        return cls(retriever)

    @property
    def size(self) -> int:
        return int(self._retriever.scores["num_docs"])

    def scores(self, query_tokens: list[str], weight_mask: np.ndarray | None = None) -> np.ndarray:
        """One score per chunk; zero where no query token occurs."""
        known = [token for token in query_tokens if token in self._retriever.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known, weight_mask=weight_mask), dtype=np.float32)

    def top(
        self, query_tokens: list[str], k: int, weight_mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the k best chunks with a positive score, best first."""
        scores = self.scores(query_tokens, weight_mask)
        k = min(k, scores.shape[0])
        candidates = np.argpartition(-scores, k - 1)[:k]
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        order = order[scores[order] > 0]
        return order, scores[order]

    def save(self, directory: Path) -> None:
        self._retriever.save(str(directory))

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        return cls(bm25s.BM25.load(str(directory)))
