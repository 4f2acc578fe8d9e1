"""FAISS inner-product index over normalised vectors: exact when small, IVF when large."""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np


class VectorIndex:
    """Cosine search; switches to an approximate IVF index above ``flat_max`` vectors."""

    def __init__(self, index: faiss.Index, *, nprobe: int = 16) -> None:
        self._index = index
        self.nprobe = nprobe

    @property
    def nprobe(self) -> int:
        """How many IVF lists a search visits: recall against speed (no effect on a flat index)."""
        return self._nprobe

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if value < 1:
            raise ValueError("nprobe must be positive")
        self._nprobe = value
        if isinstance(self._index, faiss.IndexIVF):
            self._index.nprobe = value

    @classmethod
    def build(cls, vectors: np.ndarray, *, flat_max: int = 50_000, nprobe: int = 16) -> VectorIndex:
        if vectors.ndim != 2 or vectors.shape[0] == 0:
            raise ValueError("vectors must be a non-empty 2-D array")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        count, dim = vectors.shape
        if count <= flat_max:
            index: faiss.Index = faiss.IndexFlatIP(dim)
        else:
            # ~4·sqrt(n) lists keeps each probed list small; train on a sample for speed.
            lists = int(4 * math.sqrt(count))
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFFlat(quantizer, dim, lists, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(0)
            sample = vectors[rng.choice(count, size=min(count, lists * 40), replace=False)]
            index.train(sample)
        index.add(vectors)
        return cls(index, nprobe=nprobe)

    @property
    def is_approximate(self) -> bool:
        return isinstance(self._index, faiss.IndexIVF)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) with shape (len(queries), k); missing results have id -1."""
        k = max(1, min(k, self.size))
        scores, ids = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, ids

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, *, nprobe: int = 16) -> VectorIndex:
        return cls(faiss.read_index(str(path)), nprobe=nprobe)
