"""Unanswered questions group by meaning, with the bundled e5 model."""

from __future__ import annotations

import numpy as np
import pytest

from core.settings import get_settings
from indexer.builder import make_encoder
from indexer.encoder import DenseEncoder
from workbench.clusters import cluster_questions


@pytest.fixture(scope="module")
def encoder() -> DenseEncoder:
    model = make_encoder(get_settings())
    model.warm_up()
    return model


def test_rephrasings_of_one_question_form_one_group_apart_from_others(encoder: DenseEncoder) -> None:
    texts = [
        "老年证在哪里办",
        "今天天气怎么样",
        "老年证去哪点办理",
        "公积金怎么提取",
        "老年证在哪儿办啊",
        "公积金咋个取出来",
    ]
    clusters = cluster_questions(texts, encoder.encode_queries, similarity=0.92)
    groups = [set(c.members) for c in clusters]
    assert {0, 2, 4} in groups
    assert {1} in groups
    assert clusters[0].size == 3 and clusters[0].label.startswith("老年证")
    assert sum(c.size for c in clusters) == len(texts)


def test_label_is_the_member_nearest_the_centre() -> None:
    vectors = {"a": [1.0, 0.0], "b": [0.9, 0.1], "c": [0.8, 0.2]}

    def encode(texts: list[str]) -> np.ndarray:
        return np.array([vectors[t] for t in texts], dtype=np.float32)

    (cluster,) = cluster_questions(["a", "b", "c"], encode, similarity=0.9)
    assert cluster.label == "b" and cluster.members[0] == 1


def test_no_questions_no_groups_and_one_question_one_group() -> None:
    def encode(texts: list[str]) -> np.ndarray:
        raise AssertionError("nothing to encode")

    assert cluster_questions([], encode, similarity=0.9) == []
    assert [c.members for c in cluster_questions(["只有一句"], encode, similarity=0.9)] == [(0,)]
