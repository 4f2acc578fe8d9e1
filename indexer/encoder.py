"""Dense sentence encoder: any sentence-transformers model directory on disk."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


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
        self._model: SentenceTransformer | None = None

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
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.model_path), device=self.device)
            self._model.max_seq_length = self.max_seq_length

    def _encode(self, texts: list[str], prefix: str, show_progress: bool) -> np.ndarray:
        self.warm_up()
        assert self._model is not None
        vectors = self._model.encode(
            [prefix + text for text in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prefix, show_progress=False)

    def encode_passages(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prefix, show_progress=show_progress)
