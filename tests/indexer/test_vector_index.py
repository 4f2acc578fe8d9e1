"""The approximate index agrees with exact search, and switches on by size."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from indexer.vector_index import VectorIndex


def _clustered(count: int, dim: int = 48, clusters: int = 37, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    vectors = centres[rng.integers(0, clusters, count)] + 0.35 * rng.normal(size=(count, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_small_corpus_is_exact_large_is_approximate() -> None:
    vectors = _clustered(3001)
    assert not VectorIndex.build(vectors, flat_max=5000).is_approximate
    assert VectorIndex.build(vectors, flat_max=1000).is_approximate


def test_ivf_recall_against_exact_search() -> None:
    vectors = _clustered(20_011)  # not a multiple of anything the index likes
    queries = _clustered(97, seed=11)
    exact = VectorIndex.build(vectors, flat_max=10**9)
    approximate = VectorIndex.build(vectors, flat_max=1000, nprobe=24)
    _, truth = exact.search(queries, 10)
    _, found = approximate.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.95


def test_k_larger_than_the_index_is_clamped(tmp_path: Path) -> None:
    index = VectorIndex.build(_clustered(5))
    index.save(tmp_path / "x.faiss")
    scores, ids = VectorIndex.load(tmp_path / "x.faiss").search(_clustered(1, seed=3), 50)
    assert ids.shape == (1, 5) and sorted(ids[0].tolist()) == [0, 1, 2, 3, 4]
    assert np.all(np.diff(scores[0]) <= 1e-6)
