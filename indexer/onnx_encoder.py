"""Torch-free e5 encoder: the ONNX export of the sentence-transformers model, run by onnxruntime.

Both environments can load it: the Rasa featurizer (bot/nlu/e5_featurizer.py, .venv-rasa) and
anything in .venv that should not pay for torch. It embeds exactly as ``DenseEncoder`` does with
sentence-transformers: the e5 prompt, the directory's own tokenizer.json, mean pooling over the
attention mask (prompt and special tokens included, as the model's Pooling config says) and L2
normalisation. The export is written by ``python -m indexer.onnx_export`` (``make model``); the
sentence-transformers directory stays the source of truth, this is a derived copy.

Imports only numpy, onnxruntime and tokenizers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
MARKER = "export.json"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "


def onnx_dir(model_dir: Path) -> Path:
    """Where the export of ``model_dir`` lives: a sibling folder, not a subfolder.

    ``DenseEncoder.model_id`` fingerprints every file under the model directory and the index
    refuses to load under another fingerprint, so an export inside it would make the index stale.
    """
    model_dir = Path(model_dir)
    return model_dir.with_name(f"{model_dir.name}-onnx")


@cache
def _session(path: str, intra_op_threads: int) -> ort.InferenceSession:
    """One session per model file and process: Rasa creates a component more than once."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


@cache
def _tokenizer(path: str, max_length: int, pad_token: str) -> Tokenizer:
    tokenizer = Tokenizer.from_file(path)
    pad_id = tokenizer.token_to_id(pad_token)
    if pad_id is None:
        raise ValueError(f"{path}: pad token {pad_token!r} is not in the vocabulary")
    # The post-processor's <s>…</s> count against max_length, as with transformers' truncation=True.
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
    return tokenizer


_load_lock = threading.Lock()


class OnnxEncoder:
    """Loads lazily (``warm_up``); ``encode_queries`` / ``encode_passages`` as ``DenseEncoder``."""

    def __init__(
        self,
        model_dir: Path,
        *,
        quantized: bool = False,
        export_dir: Path | None = None,
        query_prefix: str = QUERY_PREFIX,
        passage_prefix: str = PASSAGE_PREFIX,
        batch_size: int = 32,
        max_length: int = 512,
        intra_op_threads: int = 1,
    ) -> None:
        model_dir = Path(model_dir)
        export_dir = Path(export_dir) if export_dir is not None else onnx_dir(model_dir)
        model_file = export_dir / (INT8_FILE if quantized else FP32_FILE)
        if not (model_dir / "tokenizer.json").exists():
            raise FileNotFoundError(f"向量模型目录缺少 tokenizer.json：{model_dir}（运行 make model）")
        if not model_file.exists():
            raise FileNotFoundError(f"向量模型的 ONNX 导出不存在：{model_file}（运行 make model）")
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        if intra_op_threads < 1:
            raise ValueError("intra_op_threads must be positive")
        self.model_dir = model_dir
        self.model_file = model_file
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self.max_length = min(max_length, _model_max_length(model_dir))
        if self.max_length < 3:
            raise ValueError("max_length must leave room for <s>, a token and </s>")
        self.intra_op_threads = intra_op_threads
        self.dimension = _hidden_size(model_dir)
        self._session: ort.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None

    def warm_up(self) -> None:
        if self._session is not None:
            return
        with _load_lock:
            pad_token = _special_tokens(self.model_dir).get("pad_token", "<pad>")
            self._tokenizer = _tokenizer(str(self.model_dir / "tokenizer.json"), self.max_length, pad_token)
            self._session = _session(str(self.model_file), self.intra_op_threads)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts, self.query_prefix)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts, self.passage_prefix)

    def encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, in the given order."""
        self.warm_up()
        out = np.empty((len(texts), self.dimension), np.float32)
        # Similar lengths in one batch: less padding to run through the model.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._encode_batch([prefix + texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        assert self._session is not None and self._tokenizer is not None
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], np.int64)
        mask = np.array([e.attention_mask for e in encodings], np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in {i.name for i in self._session.get_inputs()}:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _special_tokens(model_dir: Path) -> dict[str, Any]:
    return _read_json(model_dir / "special_tokens_map.json") or _read_json(
        model_dir / "tokenizer_config.json"
    )


def _model_max_length(model_dir: Path) -> int:
    """sentence-transformers truncates at max_seq_length; the position table is the hard limit."""
    limit = _read_json(model_dir / "sentence_bert_config.json").get("max_seq_length")
    positions = _read_json(model_dir / "config.json").get("max_position_embeddings", 512)
    return int(min(limit, positions) if limit else positions)


def _hidden_size(model_dir: Path) -> int:
    size = _read_json(model_dir / "config.json").get("hidden_size")
    if not isinstance(size, int):
        raise ValueError(f"{model_dir / 'config.json'}: no hidden_size")
    return size
