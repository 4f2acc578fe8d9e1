"""Retrieval at province scale: a synthetic corpus of 100,000 guides (~1M chunks).

``.venv/bin/python -m bench.retrieval_scale [--guides N]`` prints, for the BM25 part and the
FAISS part separately: build time, peak memory, p50/p95 search latency, and the approximate
index's recall@10 against exact search; plus the encoder's measured throughput and the
extrapolated time to embed the whole corpus for real.

Embedding a million chunks on two CPU cores would take days, so the synthetic vectors are
perturbed mixtures of the real guides' chunk embeddings, and the synthetic token lists are
the real chunks' tokens with a share swapped for corpus words drawn by frequency. Each part
runs in its own process so that its peak memory is its own.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from tqdm import tqdm

from bench.retrieval import DATA
from core.settings import get_settings
from indexer.bm25 import BM25Index
from indexer.builder import make_encoder
from indexer.search import Searcher
from indexer.store import IndexPaths, read_embedding_cache
from indexer.vector_index import VectorIndex

CHUNKS_PER_GUIDE = 10


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentiles(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings), timings[int(0.95 * (len(timings) - 1))]


def _in_child(job: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``job`` in a fresh forked process and return its figures, so peaks don't mix."""
    with mp.get_context("fork").Pool(1) as pool:
        return pool.apply(job, args)


def _synthetic_tokens(real: list[list[str]], count: int, rng: np.random.Generator) -> list[list[str]]:
    """Real chunks' tokens with ~30% swapped for corpus words drawn by frequency (sampled in one
    vectorised call), plus one token naming the synthetic guide."""
    vocabulary, frequency = np.unique([token for tokens in real for token in tokens], return_counts=True)
    sources = [real[i % len(real)] for i in range(count)]
    lengths = np.fromiter((len(tokens) for tokens in sources), dtype=np.int64, count=count)
    swap = rng.random(int(lengths.sum())) < 0.3
    replacements = iter(rng.choice(vocabulary, size=int(swap.sum()), p=frequency / frequency.sum()).tolist())
    corpus = []
    offset = 0
    for i, tokens in enumerate(tqdm(sources, desc="合成分词语料", unit="片段", mininterval=5, disable=None)):
        mask = swap[offset : offset + len(tokens)].tolist()
        offset += len(tokens)
        corpus.append(
            [next(replacements) if swapped else token for token, swapped in zip(tokens, mask, strict=True)]
            + [f"事项{i // CHUNKS_PER_GUIDE}"]
        )
    return corpus


def bm25_part(real: list[list[str]], queries: list[list[str]], count: int) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    corpus = _synthetic_tokens(real, count, rng)
    started = time.perf_counter()
    index = BM25Index.build(corpus)
    build_seconds = time.perf_counter() - started
    del corpus
    timings = []
    for tokens in queries:
        started = time.perf_counter()
        index.top(tokens, 50)
        timings.append((time.perf_counter() - started) * 1000)
    p50, p95 = _percentiles(timings)
    return {"build_s": build_seconds, "peak_mib": _peak_mib(), "p50_ms": p50, "p95_ms": p95}


def _synthetic_vectors(real: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Mixtures of two real chunk embeddings plus noise about as large as the gaps between chunks."""
    out = np.empty((count, real.shape[1]), dtype=np.float32)
    step = 100_000
    for start in tqdm(range(0, count, step), desc="合成向量", unit="批", disable=None):
        size = min(step, count - start)
        a = real[rng.integers(0, len(real), size)]
        b = real[rng.integers(0, len(real), size)]
        mix = rng.uniform(0.6, 1.0, size=(size, 1)).astype(np.float32)
        block = mix * a + (1 - mix) * b + rng.normal(0, 0.02, size=a.shape).astype(np.float32)
        out[start : start + size] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def faiss_part(real: np.ndarray, queries: np.ndarray, count: int, nprobes: list[int]) -> dict[str, Any]:
    rng = np.random.default_rng(2)
    vectors = _synthetic_vectors(real, count, rng)
    started = time.perf_counter()
    approximate = VectorIndex.build(vectors, flat_max=50_000)
    build_seconds = time.perf_counter() - started
    peak_after_build = _peak_mib()
    exact = VectorIndex.build(vectors, flat_max=count + 1)
    _, truth = exact.search(queries, 10)
    rows = []
    for nprobe in nprobes:
        approximate.nprobe = nprobe
        timings = []
        for query in queries:
            started = time.perf_counter()
            approximate.search(query[None, :], 50)
            timings.append((time.perf_counter() - started) * 1000)
        _, found = approximate.search(queries, 10)
        recall = float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))
        rows.append((nprobe, *_percentiles(timings), recall))
    return {
        "build_s": build_seconds,
        "peak_mib": peak_after_build,
        "rows": rows,
        "approximate": approximate.is_approximate,
    }


def encoder_throughput(searcher: Searcher, questions: list[str]) -> tuple[float, float, float]:
    """(chunks/s for ~128-token passages, p50 and p95 ms to encode one question)."""
    encoder = searcher.encoder
    passages = [chunk.text[:160] for chunk in searcher.chunks[:64]]
    started = time.perf_counter()
    encoder.encode_passages(passages)
    per_second = len(passages) / (time.perf_counter() - started)
    timings = []
    for question in questions:
        started = time.perf_counter()
        encoder.encode_queries([question])
        timings.append((time.perf_counter() - started) * 1000)
    p50, p95 = _percentiles(timings)
    return per_second, p50, p95


def main() -> None:
    import yaml

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guides", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--parts", default="bm25,faiss", help="which parts to run (bm25, faiss)")
    parser.add_argument(
        "--nprobe", default="", help="comma-separated nprobe values to compare (default: setting)"
    )
    args = parser.parse_args()
    count = args.guides * CHUNKS_PER_GUIDE

    settings = get_settings()
    searcher = Searcher(settings.index, make_encoder(settings))
    searcher.warm_up()
    questions = [
        q["q"] for q in yaml.safe_load((DATA / "retrieval_eval.yaml").read_text("utf-8"))["questions"]
    ]
    questions = questions[: args.queries]
    real_tokens = [searcher.tokenizer.tokenize(chunk.text) for chunk in searcher.chunks]
    query_tokens = [searcher.tokenizer.tokenize(searcher.tokenizer.expand(q).text) for q in questions]
    cache = read_embedding_cache(IndexPaths(settings.index.index_dir), searcher.encoder.model_id)
    real_vectors = np.stack(list(cache.values())).astype(np.float32)
    query_vectors = searcher.encoder.encode_queries(questions)

    per_second, encode_p50, encode_p95 = encoder_throughput(searcher, questions)
    print(f"合成语料：{args.guides:,} 个事项，{count:,} 个片段（真实片段 {len(real_tokens)} 个）")
    print(
        f"编码器：{per_second:.1f} 片段/秒（约128词元，设备 {settings.index.device}）；"
        f"单个问题编码 p50 {encode_p50:.1f} ms，p95 {encode_p95:.1f} ms；"
        f"真实编码 {count:,} 个片段约需 {count / per_second / 3600:.1f} 小时"
    )

    parts = set(args.parts.split(","))
    p95_total = encode_p95
    if "bm25" in parts:
        bm25 = _in_child(bm25_part, real_tokens, query_tokens, count)
        print(
            f"BM25 (bm25s)：构建 {bm25['build_s']:.0f} s，峰值内存 {bm25['peak_mib']:,.0f} MiB，"
            f"检索 p50 {bm25['p50_ms']:.1f} ms，p95 {bm25['p95_ms']:.1f} ms"
        )
        p95_total += bm25["p95_ms"]
    if "faiss" in parts:
        nprobes = [int(n) for n in args.nprobe.split(",") if n] or [settings.index.ivf_nprobe]
        dense = _in_child(faiss_part, real_vectors, query_vectors, count, nprobes)
        kind = "IVF（近似）" if dense["approximate"] else "Flat（精确）"
        print(f"FAISS {kind}：构建 {dense['build_s']:.0f} s，峰值内存 {dense['peak_mib']:,.0f} MiB")
        for nprobe, p50, p95, recall in dense["rows"]:
            timing = f"检索 p50 {p50:.2f} ms，p95 {p95:.2f} ms"
            print(f"  nprobe={nprobe:<4} {timing}，recall@10 {recall:.3f}（对精确检索）")
        p95_total += dense["rows"][-1][2]
    print(f"一次检索 p95 上界（编码 + 各部分 p95 之和）：{p95_total:.1f} ms")


if __name__ == "__main__":
    main()
