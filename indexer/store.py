"""The on-disk layout of a built index and its manifest."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from indexer.chunks import Chunk
from indexer.dictionary import DomainDictionary

# Bump when chunking or the stored layout changes: an index of another format is rebuilt.
INDEX_FORMAT = 9


@dataclass
class Manifest:
    format: int
    model_id: str
    dimension: int
    dictionary: str
    built_at: str
    doc_hashes: dict[str, str]
    chunk_count: int
    approximate: bool
    skipped_files: list[str] = field(default_factory=list)
    # Sequence number of the build, raised whenever ``content`` changes; running processes
    # swap to a build whose (version, content) differs from the one they serve.
    version: int = 0
    # Hash of everything the index is made from (format, model, dictionary, every document).
    content: str = ""


@dataclass(frozen=True)
class IndexPaths:
    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def chunks(self) -> Path:
        return self.root / "chunks.jsonl"

    @property
    def guides(self) -> Path:
        return self.root / "guides.json"

    @property
    def bundles(self) -> Path:
        return self.root / "bundles.json"

    @property
    def dictionary(self) -> Path:
        return self.root / "dictionary.json"

    @property
    def userdict_dir(self) -> Path:
        return self.root / "jieba"

    @property
    def embeddings(self) -> Path:
        return self.root / "embeddings.npz"

    @property
    def faiss(self) -> Path:
        return self.root / "dense.faiss"

    @property
    def bm25(self) -> Path:
        return self.root / "bm25"


def read_manifest(paths: IndexPaths) -> Manifest | None:
    if not paths.manifest.exists():
        return None
    try:
        return Manifest(**json.loads(paths.manifest.read_text(encoding="utf-8")))
    except (TypeError, ValueError):
        return None


def write_manifest(paths: IndexPaths, manifest: Manifest) -> None:
    paths.manifest.write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=2), encoding="utf-8")


def write_chunks(paths: IndexPaths, chunks: list[Chunk]) -> None:
    with paths.chunks.open("w", encoding="utf-8") as out:
        for chunk in chunks:
            out.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")


def read_chunks(paths: IndexPaths) -> list[Chunk]:
    with paths.chunks.open(encoding="utf-8") as lines:
        return [Chunk(**json.loads(line)) for line in lines]


def write_dictionary(paths: IndexPaths, dictionary: DomainDictionary) -> None:
    data = {
        "terms": sorted(dictionary.terms),
        "synonyms": {k: list(v) for k, v in dictionary.synonyms.items()},
        "stopwords": sorted(dictionary.stopwords),
        "aspect_terms": sorted(dictionary.aspect_terms),
        "guide_links": {k: list(v) for k, v in dictionary.guide_links.items()},
        "policy_topics": sorted(dictionary.policy_topics),
        "bundle_links": {k: list(v) for k, v in dictionary.bundle_links.items()},
    }
    paths.dictionary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def read_dictionary(paths: IndexPaths) -> DomainDictionary:
    data = json.loads(paths.dictionary.read_text(encoding="utf-8"))
    return DomainDictionary(
        terms=frozenset(data["terms"]),
        synonyms={k: tuple(v) for k, v in data["synonyms"].items()},
        stopwords=frozenset(data["stopwords"]),
        aspect_terms=frozenset(data["aspect_terms"]),
        guide_links={k: tuple(v) for k, v in data["guide_links"].items()},
        policy_topics=frozenset(data.get("policy_topics", [])),
        bundle_links={k: tuple(v) for k, v in data.get("bundle_links", {}).items()},
    )


def read_embedding_cache(paths: IndexPaths, model_id: str) -> dict[str, np.ndarray]:
    """Vectors by chunk-text hash from the last build, if it used the same model."""
    if not paths.embeddings.exists():
        return {}
    with np.load(paths.embeddings, allow_pickle=False) as data:
        if str(data["model_id"]) != model_id:
            return {}
        return dict(zip(data["keys"].tolist(), data["vectors"], strict=True))


def write_embedding_cache(paths: IndexPaths, model_id: str, keys: list[str], vectors: np.ndarray) -> None:
    np.savez(paths.embeddings, model_id=np.array(model_id), keys=np.array(keys), vectors=vectors)
