"""The ONNX export must embed like the sentence-transformers model it was exported from.

fp32 runs the same weights and agrees to cosine ~1.0; the int8 variant (dynamic, per channel)
is checked with a looser bound and its figures printed (pytest -s).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from core.settings import PROJECT_ROOT, get_settings
from indexer.encoder import DenseEncoder
from indexer.onnx_encoder import FP32_FILE, MARKER, OnnxEncoder, onnx_dir
from indexer.onnx_export import export_onnx

QUESTIONS = [
    "身份证丢了怎么补办",
    "身份证搞掉了咋个补办",
    "新农合交好多钱",
    "娃儿上小学要准备哪样",
    "公积金哪阵可以取出来",
    "老人家满了80岁有没得高龄补贴",
    "户口迁到遵义要带哪些东西",
    "驾照到期了在哪里换",
    "残疾证咋个申请嘛",
    "生娃儿的出生证明在哪里开",
    "不动产过户要交好多税",
    "居住证办下来要几天",
    "我想开个小卖部，营业执照怎么办",
    "社保卡密码忘了怎么办",
    "可以在网上预约吗",
    "政务服务中心几点上班",
    "我要投诉窗口工作人员态度不好",
    "转人工",
    "谢谢你",
    "今天天气怎么样",
    "请问 how to apply for 营业执照 online？需要带 ID card 不",
    "喂",
]

MEDIUM = (
    "个体工商户设立登记：自然人从事工商业经营，比如开小卖部、餐馆、理发店、修车铺或者网店，"
    "应当依法向经营场所所在地的县级市场监督管理部门申请登记，领取营业执照，纸质执照和电子营业执照同时发放。"
    "申请材料：个体工商户登记申请书一份，经营者居民身份证原件，经营场所使用相关文件；委托他人代为办理的，"
    "提交委托书及被委托人居民身份证。材料齐全、符合法定形式的当场登记、当场发照，不收取任何费用。"
)


def _guide_text(guide_id: str) -> str:
    """A whole guide as one text: far over 512 tokens, so both sides must truncate alike."""
    data = yaml.safe_load((PROJECT_ROOT / "knowledge" / "guides" / f"{guide_id}.yaml").read_text("utf-8"))
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.fixture(scope="module")
def model_dir() -> Path:
    path = get_settings().index.model_path
    export_onnx(path)  # a no-op after `make model`
    return path


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [*QUESTIONS, MEDIUM, _guide_text("juzhuzheng_shenling"), _guide_text("gaoling_butie")]


@pytest.fixture(scope="module")
def reference(model_dir: Path) -> DenseEncoder:
    encoder = DenseEncoder(model_dir, query_prefix="query: ", passage_prefix="passage: ", max_seq_length=512)
    encoder.warm_up()
    return encoder


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    assert a.shape == b.shape
    return np.sum(a * b, axis=1)


@pytest.mark.slow
def test_long_texts_really_are_truncated(model_dir: Path, texts: list[str]) -> None:
    encoder = OnnxEncoder(model_dir)
    encoder.warm_up()
    assert encoder._tokenizer is not None
    lengths = [sum(encoding.attention_mask) for encoding in encoder._tokenizer.encode_batch(texts)]
    assert max(lengths) == 512 and min(lengths) < 20


@pytest.mark.slow
def test_fp32_matches_sentence_transformers(
    model_dir: Path, reference: DenseEncoder, texts: list[str]
) -> None:
    encoder = OnnxEncoder(model_dir)
    queries = _cosines(encoder.encode_queries(texts), reference.encode_queries(texts))
    passages = _cosines(encoder.encode_passages(texts), reference.encode_passages(texts))
    lowest = min(queries.min(), passages.min())
    print(f"fp32 vs sentence-transformers over {len(texts)} texts: min cosine {lowest:.6f}")
    assert queries.min() >= 0.99 and passages.min() >= 0.99


@pytest.mark.slow
def test_int8_stays_close(model_dir: Path, reference: DenseEncoder, texts: list[str]) -> None:
    cosines = _cosines(
        OnnxEncoder(model_dir, quantized=True).encode_queries(texts), reference.encode_queries(texts)
    )
    print(f"int8 vs sentence-transformers: min cosine {cosines.min():.4f}, mean {cosines.mean():.4f}")
    assert cosines.min() >= 0.99


@pytest.mark.slow
def test_batching_keeps_the_order(model_dir: Path, texts: list[str]) -> None:
    batched = OnnxEncoder(model_dir, batch_size=4).encode_queries(texts)
    one_by_one = np.vstack([OnnxEncoder(model_dir).encode_queries([text]) for text in texts])
    assert batched.dtype == np.float32 and batched.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, rtol=1e-5)
    assert _cosines(batched, one_by_one).min() > 0.99999  # padding must not leak into the mean


@pytest.mark.slow
def test_loads_lazily_and_once_per_process(model_dir: Path) -> None:
    first, second = OnnxEncoder(model_dir), OnnxEncoder(model_dir, batch_size=8)
    assert first._session is None
    first.warm_up()
    second.warm_up()
    assert first._session is second._session


@pytest.mark.slow
def test_second_export_is_a_no_op(model_dir: Path) -> None:
    out = onnx_dir(model_dir)
    before = {path: path.stat().st_mtime_ns for path in out.rglob("*")}
    start = time.perf_counter()
    assert export_onnx(model_dir) == out
    assert time.perf_counter() - start < 10.0  # hashing the weights, no export
    assert {path: path.stat().st_mtime_ns for path in out.rglob("*")} == before
    assert {FP32_FILE, MARKER} <= {path.name for path in before}


def test_needs_no_torch() -> None:
    """The point of the module: Rasa's environment has no torch."""
    code = "import sys, indexer.onnx_encoder; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_a_missing_export_is_named(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{}", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="make model"):
        OnnxEncoder(tmp_path)


def test_export_refuses_a_model_it_would_pool_wrongly(tmp_path: Path) -> None:
    (tmp_path / "modules.json").write_text(
        '[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},'
        ' {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]',
        encoding="utf-8",
    )
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}', encoding="utf-8")
    with pytest.raises(ValueError, match="mean Pooling"):
        export_onnx(tmp_path, out_dir=tmp_path / "onnx")
