"""Build the index: validate, chunk, tokenise, embed what changed, write atomically."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import ValidationError
from tqdm import tqdm

from core.settings import Settings
from indexer.bm25 import BM25Index
from indexer.bundles import load_bundles
from indexer.chunks import Chunk, bundle_chunks, guide_chunks, policy_chunks
from indexer.dictionary import TYPO_TERMS_NAME, load_dictionary
from indexer.encoder import DenseEncoder
from indexer.loader import GuideSet, LoadedGuide, Problem, content_hash, load_guides
from indexer.normalize import write_terms
from indexer.policy import faq_file, load_policy_faq, parse_policy
from indexer.rasa_data import RASA_DATA_NAME, write_rasa_service_data
from indexer.schema import Guide
from indexer.store import (
    INDEX_FORMAT,
    IndexPaths,
    Manifest,
    read_embedding_cache,
    read_manifest,
    write_chunks,
    write_dictionary,
    write_embedding_cache,
    write_manifest,
)
from indexer.text import ChineseTokenizer
from indexer.vector_index import VectorIndex

POLICY_SUFFIXES = (".txt",)


@dataclass
class BuildReport:
    guides: int = 0
    bundles: int = 0
    policy_items: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    skipped_files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # invalid files whose last good version stays
    version: int = 0
    up_to_date: bool = False
    rebuild_reason: str | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        if self.up_to_date:
            lines = [
                f"索引已是最新（版本 {self.version}）：{self.guides} 个办事指南，{self.chunks} 个片段"
                f"（{self.seconds:.1f}s）"
            ]
        else:
            lines = [
                f"索引完成（版本 {self.version}）：{self.guides} 个办事指南，{self.bundles} 个一件事，"
                f"{self.policy_items} 条政策条款，"
                f"{self.chunks} 个片段；新编码 {self.embedded} 个，复用 {self.reused} 个；"
                f"跳过 {len(self.skipped_files)} 个文件；用时 {self.seconds:.1f}s"
            ]
        if self.rebuild_reason:
            lines.insert(0, self.rebuild_reason)
        lines += [
            f"  {'无效，继续提供上一版' if problem.file.name in self.kept else '跳过'} {problem}"
            for problem in self.problems
        ]
        return "\n".join(lines)


def _text_key(model_id: str, text: str) -> str:
    return hashlib.sha256(f"{model_id}\n{text}".encode()).hexdigest()[:24]


def _policy_files(policies_dir: Path) -> list[Path]:
    if not policies_dir.exists():
        return []
    return sorted(p for p in policies_dir.iterdir() if p.suffix in POLICY_SUFFIXES)


def make_encoder(settings: Settings) -> DenseEncoder:
    cfg = settings.index
    return DenseEncoder(
        cfg.model_path,
        query_prefix=cfg.query_prefix,
        passage_prefix=cfg.passage_prefix,
        device=cfg.device,
        batch_size=cfg.encode_batch_size,
        max_seq_length=cfg.max_seq_length,
        query_encoder=cfg.query_encoder,
        query_cache_size=cfg.query_cache_size,
    )


def _content_id(model_id: str, dictionary: str, doc_hashes: dict[str, str]) -> str:
    """What the index is made of, as one hash: equal hashes, equal indexes."""
    made_of = {"format": INDEX_FORMAT, "model": model_id, "dictionary": dictionary, "docs": doc_hashes}
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()[:16]


def _last_good_versions(
    paths: IndexPaths, previous: Manifest | None, guide_set: GuideSet
) -> list[LoadedGuide]:
    """For each guide file that is invalid now, its version in the index being replaced: a
    mistake in an edit leaves the service's last good guide live instead of taking it away."""
    if previous is None or previous.format != INDEX_FORMAT or not paths.guides.exists():
        return []
    try:
        served = json.loads(paths.guides.read_text(encoding="utf-8"))
    except ValueError:
        return []
    names = {loaded.guide.name for loaded in guide_set.guides}
    ids = {loaded.guide.id for loaded in guide_set.guides}
    kept = []
    for path in guide_set.skipped_files:
        data, old_hash = served.get(path.stem), previous.doc_hashes.get(path.stem)
        if data is None or old_hash is None or path.stem in ids:
            continue
        try:
            guide = Guide.model_validate(data)
        except ValidationError:
            continue
        if guide.name in names:
            continue
        names.add(guide.name)
        ids.add(guide.id)
        kept.append(LoadedGuide(guide, path, old_hash))
    return kept


@contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    """One build at a time per index: two would share the staging directory."""
    root.parent.mkdir(parents=True, exist_ok=True)
    with root.with_name(root.name + ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build_index(
    settings: Settings, *, encoder: DenseEncoder | None = None, force: bool = False
) -> BuildReport:
    """Bring ``settings.index.index_dir`` up to date with the knowledge files; cheap when nothing changed.

    Invalid guide files are reported in ``problems``; those the previous index served stay in
    it as they were. Running processes pick the new index up by its manifest's version."""
    with _build_lock(settings.index.index_dir):
        return _build(settings, encoder or make_encoder(settings), force)


def _build(settings: Settings, encoder: DenseEncoder, force: bool) -> BuildReport:
    started = time.perf_counter()
    knowledge, cfg = settings.knowledge, settings.index
    paths = IndexPaths(cfg.index_dir)
    report = BuildReport()

    guide_set = load_guides(knowledge.guides_dir, knowledge.halls_file)
    report.problems = list(guide_set.problems)
    report.skipped_files = [str(p) for p in guide_set.skipped_files]
    previous = read_manifest(paths)
    kept = _last_good_versions(paths, previous, guide_set)
    report.kept = [str(loaded.file.name) for loaded in kept]
    guides = sorted([*guide_set.guides, *kept], key=lambda loaded: loaded.guide.id)
    situations = {g.guide.id: [s.id for s in g.guide.situations] for g in guides}
    bundle_set = load_bundles(knowledge.bundles_dir, situations.keys(), situations)
    bundles = [
        loaded for loaded in bundle_set.bundles if loaded.bundle.id not in {g.guide.id for g in guides}
    ]
    report.problems += list(bundle_set.problems)
    report.problems += [
        Problem(loaded.file, "id", f"与办事指南 id“{loaded.bundle.id}”重复")
        for loaded in bundle_set.bundles
        if loaded not in bundles
    ]
    report.skipped_files += [str(p) for p in bundle_set.skipped_files]
    dictionary = load_dictionary(
        knowledge.dictionary_dir, (g.guide for g in guides), (b.bundle for b in bundles)
    )
    policy_files = _policy_files(knowledge.policies_dir)
    doc_hashes = {g.guide.id: g.content_hash for g in guides}
    doc_hashes.update({f"bundle:{b.bundle.id}": b.content_hash for b in bundles})
    for policy in policy_files:
        faq = faq_file(policy)
        doc_hashes[f"policy:{policy.name}"] = content_hash(
            policy.read_bytes() + (faq.read_bytes() if faq.exists() else b"")
        )

    content = _content_id(encoder.model_id, dictionary.fingerprint(), doc_hashes)
    report.guides, report.bundles = len(guides), len(bundles)
    if previous is not None and previous.content == content:
        report.version = previous.version
    else:
        report.version = (previous.version if previous is not None else 0) + 1
    if (
        not force
        and previous is not None
        and previous.content == content
        and cfg.jieba_dict_dir.joinpath("userdict.txt").exists()
        and cfg.rasa_data_dir.joinpath(RASA_DATA_NAME).exists()
        and paths.root.joinpath(TYPO_TERMS_NAME).exists()
    ):
        report.up_to_date, report.chunks = True, previous.chunk_count
        report.seconds = time.perf_counter() - started
        return report
    if previous is not None and previous.model_id != encoder.model_id:
        report.rebuild_reason = (
            f"全部重新编码：索引由模型 {previous.model_id} 构建，当前设置为 {encoder.model_id}"
        )
    elif previous is not None and previous.format != INDEX_FORMAT:
        report.rebuild_reason = f"重新构建：索引格式 {previous.format} 已过期（当前 {INDEX_FORMAT}）"

    chunks: list[Chunk] = []
    for loaded in tqdm(guides, desc="切分办事指南", unit="篇", leave=False, disable=None):
        chunks += guide_chunks(loaded.guide)
    guide_names = {g.guide.id: g.guide.name for g in guides}
    for loaded_bundle in bundles:
        chunks += bundle_chunks(loaded_bundle.bundle, guide_names)
    for policy in policy_files:
        items = parse_policy(policy)
        faqs = load_policy_faq(policy, {item.label for item in items})
        report.policy_items += len(items)
        for item in items:
            chunks += policy_chunks(item, faqs)
    if not chunks:
        raise RuntimeError(
            f"没有可索引的内容：{knowledge.guides_dir} 与 {knowledge.policies_dir} 均为空或全部无效"
        )
    report.chunks = len(chunks)

    staging = paths.root.with_name(paths.root.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    new = IndexPaths(staging)

    userdict = dictionary.write_userdict(new.userdict_dir)
    tokenizer = ChineseTokenizer(dictionary, userdict)
    corpus_tokens = [
        tokenizer.tokenize(chunk.text) for chunk in tqdm(chunks, desc="分词", leave=False, disable=None)
    ]
    BM25Index.build(corpus_tokens).save(new.bm25)

    model_id = encoder.model_id  # hashes the model's files: once, not once per chunk
    cache = {} if force else read_embedding_cache(paths, model_id)
    keys = [_text_key(model_id, chunk.text) for chunk in chunks]
    missing = [i for i, key in enumerate(keys) if key not in cache]
    report.embedded, report.reused = len(missing), len(chunks) - len(missing)
    if missing:
        fresh = encoder.encode_passages([chunks[i].text for i in missing], show_progress=len(missing) > 64)
        cache.update({keys[i]: fresh[j] for j, i in enumerate(missing)})
    vectors = np.stack([cache[key] for key in keys]).astype(np.float32)
    write_embedding_cache(new, encoder.model_id, keys, vectors)
    dense = VectorIndex.build(vectors, flat_max=cfg.flat_index_max_vectors, nprobe=cfg.ivf_nprobe)
    dense.save(new.faiss)

    write_chunks(new, chunks)
    write_dictionary(new, dictionary)
    # For Rasa's TextNormalizer (bot/nlu/normalizer.py); the searcher reads the dictionary.
    write_terms(new.root / TYPO_TERMS_NAME, dictionary.typo_terms())
    new.guides.write_text(
        json.dumps({g.guide.id: g.guide.model_dump(mode="json") for g in guides}, ensure_ascii=False),
        encoding="utf-8",
    )
    new.bundles.write_text(
        json.dumps({b.bundle.id: b.bundle.model_dump(mode="json") for b in bundles}, ensure_ascii=False),
        encoding="utf-8",
    )
    write_manifest(
        new,
        Manifest(
            format=INDEX_FORMAT,
            model_id=encoder.model_id,
            dimension=int(vectors.shape[1]),
            dictionary=dictionary.fingerprint(),
            built_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            doc_hashes=doc_hashes,
            chunk_count=len(chunks),
            approximate=dense.is_approximate,
            skipped_files=report.skipped_files,
            version=report.version,
            content=content,
        ),
    )
    _swap_into_place(staging, paths.root)
    dictionary.write_userdict(cfg.jieba_dict_dir)
    write_rasa_service_data(
        [g.guide for g in guides], dictionary, cfg.rasa_data_dir, [b.bundle for b in bundles]
    )
    report.seconds = time.perf_counter() - started
    return report


def _swap_into_place(staging: Path, target: Path) -> None:
    """Replace the live index in two renames, so a reader never sees half an index."""
    retired = target.with_name(target.name + ".old")
    shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
