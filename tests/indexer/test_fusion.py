from __future__ import annotations

import pytest

from indexer.fusion import best_per_document, reciprocal_rank_fusion, reweight


def test_rrf_rewards_agreement_between_rankings() -> None:
    fused = reciprocal_rank_fusion([1, 2, 3], [3, 4, 1], k=60)
    assert [item.position for item in fused][:2] == [1, 3]
    top = fused[0]
    assert top.score == pytest.approx(1 / 61 + 1 / 63)
    assert (top.bm25_rank, top.dense_rank) == (1, 3)


def test_weights_scale_each_ranking() -> None:
    fused = reciprocal_rank_fusion([1], [2], k=60, bm25_weight=0.0, dense_weight=1.0)
    assert [item.position for item in fused] == [2, 1]


def test_one_hit_per_document_in_fused_order() -> None:
    fused = reciprocal_rank_fusion([0, 1, 2], [1, 0, 2], k=60)
    best = best_per_document(fused, ["a", "a", "b"])
    assert [item.position for item in best] == [0, 2]


def test_reweight_reorders() -> None:
    fused = reciprocal_rank_fusion([0, 1], [], k=60)
    assert [i.position for i in reweight(fused, lambda p: 2.0 if p == 1 else 1.0)] == [1, 0]
