"""Dense sentence encoder: any sentence-transformers model directory on disk.

Passages (index builds) are always encoded by the model itself, the source of truth. Questions
can be encoded by its ONNX export instead (``query_encoder``): fp32 gives the same vectors several
times faster than torch on a CPU, int8 faster still; recent questions' vectors are cached.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from indexer.onnx_encoder import OnnxEncoder

QueryEncoder = Literal["torch", "onnx", "onnx-int8"]


class DenseEncoder:
    """Loads the model lazily (``warm_up``) and adds the model's query/passage prefixes."""

    def __init__(
        self,
        model_path: Path,
        *,
        query_prefix: str = "",
        passage_prefix: str = "",
        device: str = "cpu",
        batch_size: int = 32,
        max_seq_length: int = 256,
        query_encoder: QueryEncoder = "torch",
        query_cache_size: int = 0,
    ) -> None:
        if not (model_path / "modules.json").exists() and not (model_path / "config.json").exists():
            raise FileNotFoundError(
                f"向量模型目录不存在或不完整：{model_path}（运行 make setup，或设置 ZY_INDEX__MODEL_PATH）"
            )
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        self.model_path = model_path
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.device = device
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        if query_encoder not in ("torch", "onnx", "onnx-int8"):
            raise ValueError(f"query_encoder must be torch, onnx or onnx-int8, not {query_encoder!r}")
        if query_cache_size < 0:
            raise ValueError("query_cache_size must not be negative")
        self.query_encoder = query_encoder
        self._model: SentenceTransformer | None = None
        self._onnx: OnnxEncoder | None = None
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = query_cache_size
        self._cache_lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """What the index manifest records: the folder name plus a fingerprint of its config and
        weight sizes, so a different model behind the same folder name is still noticed."""
        digest = hashlib.sha256(f"{self.query_prefix}|{self.passage_prefix}".encode())
        for path in sorted(self.model_path.rglob("*")):
            if path.suffix == ".json":
                digest.update(path.read_bytes())
            elif path.is_file():
                digest.update(f"{path.name}:{path.stat().st_size}".encode())
        return f"{self.model_path.name}@{digest.hexdigest()[:12]}"

    def warm_up(self) -> None:
        """Load what encoding questions needs (the ONNX session, or the model itself)."""
        if self.query_encoder == "torch":
            self._load_model()
        else:
            self._load_onnx().warm_up()

    def _load_model(self) -> SentenceTransformer:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.model_path), device=self.device)
            self._model.max_seq_length = self.max_seq_length
        return self._model

    def _load_onnx(self) -> OnnxEncoder:
        if self._onnx is None:
            from indexer.onnx_encoder import OnnxEncoder

            self._onnx = OnnxEncoder(
                self.model_path,
                quantized=self.query_encoder == "onnx-int8",
                query_prefix=self.query_prefix,
                passage_prefix=self.passage_prefix,
                max_length=self.max_seq_length,
            )
        return self._onnx

    def _encode(self, texts: list[str], prefix: str, show_progress: bool) -> np.ndarray:
        vectors = self._load_model().encode(
            [prefix + text for text in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, 0), np.float32)
        with self._cache_lock:
            cached = {text: self._cache[text] for text in texts if text in self._cache}
            for text in cached:
                self._cache.move_to_end(text)
        missing = list(dict.fromkeys(text for text in texts if text not in cached))
        if missing:
            if self.query_encoder == "torch":
                fresh = self._encode(missing, self.query_prefix, show_progress=False)
            else:
                fresh = self._load_onnx().encode_queries(missing)
            computed = dict(zip(missing, fresh, strict=True))
            cached.update(computed)
            self._remember(computed)
        return np.ascontiguousarray(np.stack([cached[text] for text in texts]), dtype=np.float32)

    def _remember(self, vectors: dict[str, np.ndarray]) -> None:
        if not self._cache_size:
            return
        with self._cache_lock:
            for text, vector in vectors.items():
                self._cache[text] = vector
                self._cache.move_to_end(text)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def encode_passages(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prefix, show_progress=show_progress)
