"""Near-duplicate questions grouped by meaning: 低保咋个申请 and 低保怎么申请啊 are one group.

The e5 vectors the index already uses; average-linkage agglomerative clustering (scipy) with a
cosine threshold, so a group is questions that are on average that close to each other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

Encode = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Cluster:
    """Questions of one group (indices into the input), the most typical one first."""

    members: tuple[int, ...]
    label: str  # the member closest to the group's centre, shown as its name

    @property
    def size(self) -> int:
        return len(self.members)


def cluster_questions(texts: Sequence[str], encode: Encode, *, similarity: float) -> list[Cluster]:
    """Groups of ``texts`` whose average pairwise cosine similarity is at least ``similarity``;
    largest group first, then by first appearance. ``encode`` maps texts to normalised vectors."""
    if not texts:
        return []
    if len(texts) == 1:
        return [Cluster((0,), texts[0])]
    vectors = np.asarray(encode(list(texts)), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    tree = linkage(vectors, method="average", metric="cosine")
    labels = fcluster(tree, t=1.0 - similarity, criterion="distance")
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(int(label), []).append(index)
    clusters = [_cluster(members, vectors, texts) for members in groups.values()]
    return sorted(clusters, key=lambda c: (-c.size, c.members[0]))


def _cluster(members: list[int], vectors: np.ndarray, texts: Sequence[str]) -> Cluster:
    centre = vectors[members].mean(axis=0)
    typical = members[int(np.argmax(vectors[members] @ centre))]
    ordered = [typical] + [m for m in members if m != typical]
    return Cluster(tuple(ordered), texts[typical])
