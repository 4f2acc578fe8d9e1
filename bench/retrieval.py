"""Retrieval quality and speed on the sample index.

``.venv/bin/python -m bench.retrieval`` prints Hit@1, Hit@3 and MRR for BM25 alone,
dense alone and hybrid; false-accept / false-reject rates of the "no confident match"
decision; and warm p50/p95 latency of one hybrid search.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.settings import Settings, get_settings
from indexer.builder import build_index, make_encoder
from indexer.encoder import DenseEncoder
from indexer.search import Retrievers, Searcher

DATA = Path(__file__).parent / "data"
POLICY_STEM = "zunyi-fubanfa-2017-39"


@dataclass(frozen=True)
class Question:
    text: str
    expected_doc: str
    aspect: str | None


@dataclass
class Scores:
    hit1: float
    hit3: float
    mrr: float
    section_hit: float


def load_questions(path: Path, searcher: Searcher, *, member: bool | None = None) -> list[Question]:
    """``member``: from a bundle set, only questions about one member service (True) or only
    those about the whole event (False)."""
    questions = []
    for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]:
        if member is not None and bool(entry.get("member")) != member:
            continue
        if entry["expect"] == "policy":
            doc = f"{POLICY_STEM}#{entry['item']}"
        else:
            found = searcher.guide(entry["expect"]) or searcher.bundle(entry["expect"])
            if found is None:
                raise SystemExit(f"评测集引用了不存在的事项或一件事：{entry['expect']}")
            doc = found.id
        questions.append(Question(entry["q"], doc, entry.get("aspect")))
    return questions


def evaluate(
    searcher: Searcher, questions: list[Question], retrievers: Retrievers, misses: list[str] | None = None
) -> Scores:
    hit1 = hit3 = reciprocal = section = 0.0
    for question in questions:
        hits = searcher.search(question.text, k=10, retrievers=retrievers).hits
        docs = [hit.doc_id for hit in hits]
        if question.expected_doc in docs:
            rank = docs.index(question.expected_doc) + 1
            reciprocal += 1 / rank
            hit1 += rank == 1
            hit3 += rank <= 3
            if rank == 1 and question.aspect and hits[0].section == question.aspect:
                section += 1
        if misses is not None and (not docs or docs[0] != question.expected_doc):
            misses.append(
                f"  {question.text} → {hits[0].title if hits else '—'}（应为 {question.expected_doc}）"
            )
    n = len(questions)
    with_aspect = sum(1 for q in questions if q.aspect) or 1
    return Scores(hit1 / n, hit3 / n, reciprocal / n, section / with_aspect)


def confidence_rates(
    searcher: Searcher, in_domain: list[Question], out_of_scope: list[str]
) -> tuple[float, float]:
    false_reject = sum(not searcher.search(q.text, k=1).confident for q in in_domain) / len(in_domain)
    false_accept = sum(searcher.search(q, k=1).confident for q in out_of_scope) / len(out_of_scope)
    return false_accept, false_reject


def latency_ms(searcher: Searcher, questions: list[Question], rounds: int) -> tuple[float, float]:
    timings = []
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            searcher.search(question.text, k=5)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(0.95 * (len(timings) - 1))]


def _without_bundles(settings: Settings, encoder: DenseEncoder, root: Path) -> Searcher:
    """The same knowledge indexed without any 一件事 (as before bundles were indexed): a copy of
    the index rebuilt with an empty bundles folder, so the stored vectors are reused."""
    shutil.copytree(settings.index.index_dir, root / "index")
    before = settings.model_copy(
        update={
            "knowledge": settings.knowledge.model_copy(update={"bundles_dir": root / "no-bundles"}),
            "index": settings.index.model_copy(
                update={
                    "index_dir": root / "index",
                    "jieba_dict_dir": root / "jieba",
                    "rasa_data_dir": root / "rasa",
                }
            ),
        }
    )
    build_index(before, encoder=encoder)
    searcher = Searcher(before.index, encoder)
    searcher.warm_up()
    return searcher


def _compare_bundles(
    settings: Settings,
    searcher: Searcher,
    questions: list[Question],
    out_of_scope: list[str],
    args: argparse.Namespace,
) -> None:
    """Life-event questions and member-service questions, with and without bundles in the index,
    side by side in one run; the main set and the off-topic set too, to show nothing else moved."""
    events = load_questions(args.bundles, searcher, member=False)
    members = load_questions(args.bundles, searcher, member=True)
    with tempfile.TemporaryDirectory(prefix="bench-no-bundles-") as folder:
        before = _without_bundles(settings, searcher.encoder, Path(folder))
        print(f"\n一件事进索引前后（同一次运行；改前 = 同一知识库不含 {len(searcher.bundles)} 个一件事）：")
        print(f"{'':<26} {'改前':>7} {'改后':>7}")
        misses: list[str] = []
        rows = (
            (f"一件事整件问 Hit@1（{len(events)} 题）", events, "hit1"),
            (f"一件事整件问 Hit@3（{len(events)} 题）", events, "hit3"),
            (f"一件事单项问 Hit@1（{len(members)} 题）", members, "hit1"),
            (f"主评测集 Hit@1（{len(questions)} 题）", questions, "hit1"),
        )
        for label, subset, field in rows:
            old = getattr(evaluate(before, subset, "hybrid"), field)
            shown = misses if args.show_misses and subset is not questions and field == "hit1" else None
            new = getattr(evaluate(searcher, subset, "hybrid", shown), field)
            print(f"{label:<26} {old:>7.3f} {new:>7.3f}")
        old_fa, _ = confidence_rates(before, questions, out_of_scope)
        new_fa, _ = confidence_rates(searcher, questions, out_of_scope)
        print(f"{'无关问题误接受率':<26} {old_fa:>7.3f} {new_fa:>7.3f}")
        if misses:
            print("改后一件事评测未命中第一名：\n" + "\n".join(misses))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval", type=Path, default=DATA / "retrieval_eval.yaml")
    parser.add_argument("--oos", type=Path, default=DATA / "out_of_scope.yaml")
    parser.add_argument("--bundles", type=Path, default=DATA / "bundle_eval.yaml")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--rounds", type=int, default=2, help="latency rounds over the question set")
    parser.add_argument(
        "--query-encoders",
        default="torch,onnx,onnx-int8",
        help="compared side by side after the main table (comma-separated)",
    )
    args = parser.parse_args()

    settings = get_settings()
    searcher = Searcher(settings.index, make_encoder(settings))
    searcher.warm_up()
    questions = load_questions(args.eval, searcher)
    out_of_scope = [str(q) for q in yaml.safe_load(args.oos.read_text(encoding="utf-8"))["questions"]]

    print(
        f"评测集：{len(questions)} 个问题，{len(out_of_scope)} 个无关问题；"
        f"索引 {searcher.manifest.chunk_count} 个片段，模型 {searcher.manifest.model_id}"
    )
    print(f"{'retriever':<8} {'Hit@1':>7} {'Hit@3':>7} {'MRR':>7} {'section@1':>10}")
    misses: list[str] = []
    for retrievers in ("bm25", "dense", "hybrid"):
        scores = evaluate(searcher, questions, retrievers, misses if retrievers == "hybrid" else None)
        row = (scores.hit1, scores.hit3, scores.mrr)
        print(f"{retrievers:<8} " + " ".join(f"{v:>7.3f}" for v in row) + f" {scores.section_hit:>10.3f}")
    if args.show_misses:
        print("hybrid 未命中第一名：")
        print("\n".join(misses))
    _compare_bundles(settings, searcher, questions, out_of_scope, args)

    false_accept, false_reject = confidence_rates(searcher, questions, out_of_scope)
    print(
        f"无把握判定：误接受率 {false_accept:.3f}（无关问题被当作有答案），误拒绝率 {false_reject:.3f}"
        f"（问题点名了某个事项，或与某片段余弦 ≥ {settings.index.min_dense_score}）"
    )

    p50, p95 = latency_ms(searcher, questions, args.rounds)
    print(f"单次混合检索（预热后，{len(questions) * args.rounds} 次）：p50 {p50:.1f} ms，p95 {p95:.1f} ms")

    print("\n问题编码方式对比（同一索引、同一批问题，不用缓存；同一次运行里先后测）：")
    columns = ("Hit@1", "Hit@3", "误接受", "误拒绝", "p50 ms", "p95 ms")
    print(f"{'query_encoder':<14} " + " ".join(f"{c:>7}" for c in columns))
    for name in args.query_encoders.split(","):
        options = settings.index.model_copy(update={"query_encoder": name, "query_cache_size": 0})
        candidate = Searcher(options, make_encoder(settings.model_copy(update={"index": options})))
        candidate.warm_up()
        scores = evaluate(candidate, questions, "hybrid", None)
        fa, fr = confidence_rates(candidate, questions, out_of_scope)
        p50, p95 = latency_ms(candidate, questions, args.rounds)
        rates = (scores.hit1, scores.hit3, fa, fr)
        figures = [f"{v:.3f}" for v in rates] + [f"{v:.1f}" for v in (p50, p95)]
        print(f"{name:<14} " + " ".join(f"{v:>7}" for v in figures))


if __name__ == "__main__":
    main()
