"""Questions encoded by the ONNX export agree with the model itself, and repeats come from the cache."""

from __future__ import annotations

import numpy as np
import pytest

from core.settings import get_settings
from indexer.encoder import DenseEncoder

QUESTIONS = ["高龄补贴要带哪些材料", "身份证丢了在外地能补吗", "我屋头要装修房子公积金取得出来不", "低保"]


def _encoder(query_encoder: str, cache: int = 0) -> DenseEncoder:
    cfg = get_settings().index
    return DenseEncoder(
        cfg.model_path,
        query_prefix=cfg.query_prefix,
        passage_prefix=cfg.passage_prefix,
        max_seq_length=cfg.max_seq_length,
        query_encoder=query_encoder,  # type: ignore[arg-type]
        query_cache_size=cache,
    )


@pytest.mark.parametrize(("backend", "closest"), [("onnx", 0.9999), ("onnx-int8", 0.99)])
def test_onnx_questions_match_the_model_itself(backend: str, closest: float) -> None:
    reference = _encoder("torch").encode_queries(QUESTIONS)
    vectors = _encoder(backend).encode_queries(QUESTIONS)
    assert vectors.shape == reference.shape
    cosines = np.sum(vectors * reference, axis=1)
    assert cosines.min() >= closest, cosines


def test_a_repeated_question_is_served_from_the_cache() -> None:
    encoder = _encoder("onnx", cache=2)
    first = encoder.encode_queries(["低保要带哪些材料"])
    encoder._onnx.encode_queries = None  # type: ignore[union-attr,assignment]  # any new encoding would fail
    again = encoder.encode_queries(["低保要带哪些材料", "低保要带哪些材料"])
    assert np.array_equal(again[0], first[0]) and np.array_equal(again[1], first[0])
    with pytest.raises(TypeError):
        encoder.encode_queries(["没见过的问题"])


def test_the_cache_keeps_only_the_most_recent_questions() -> None:
    encoder = _encoder("onnx", cache=2)
    encoder.encode_queries(["甲问题", "乙问题"])
    encoder.encode_queries(["甲问题"])  # 甲 is now the most recent
    encoder.encode_queries(["丙问题"])  # 乙 goes
    assert list(encoder._cache) == ["甲问题", "丙问题"]
