"""``python -m indexer build | validate | search``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable

from core.settings import get_settings
from indexer.builder import build_index, make_encoder
from indexer.bundles import load_bundles
from indexer.loader import load_guides
from indexer.search import QueryError, Searcher, SearchResult


def _validate() -> int:
    knowledge = get_settings().knowledge
    result = load_guides(knowledge.guides_dir, knowledge.halls_file)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    print(f"{len(result.guides)} 个办事指南通过校验，{len(result.skipped_files)} 个文件有问题")
    situations = {loaded.guide.id: [s.id for s in loaded.guide.situations] for loaded in result.guides}
    bundles = load_bundles(knowledge.bundles_dir, situations.keys(), situations)
    for problem in bundles.problems:
        print(problem, file=sys.stderr)
    print(f"{len(bundles.bundles)} 个“一件事”通过校验，{len(bundles.skipped_files)} 个文件有问题")
    return 1 if result.problems or bundles.problems else 0


def _build(force: bool) -> int:
    """Non-zero when a guide file is invalid: the other guides are built and served anyway."""
    report = build_index(get_settings(), force=force)
    print(report.summary())
    if report.problems:
        files = sorted({problem.file.name for problem in report.problems})
        print(
            f"{len(files)} 个办事指南文件无效：{'、'.join(files)}；修正后重新运行 python -m indexer build",
            file=sys.stderr,
        )
        return 1
    return 0


def _print_result(result: SearchResult, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    if result.corrections:
        print("；".join(f"已按“{right}”理解“{wrong}”" for wrong, right in result.corrections))
    if not result.confident:
        print(f"（{result.reason}）")
    for rank, hit in enumerate(result.hits, 1):
        print(
            f"{rank}. {hit.title} · {hit.section_label}  score={hit.score:.4f} "
            f"bm25={hit.bm25_rank} dense={hit.dense_rank}"
        )


def _questions(question: str | None) -> Iterable[str]:
    if question is not None:
        yield question
    else:
        for line in sys.stdin:
            yield line.rstrip("\n")


def _search(question: str | None, k: int, as_json: bool) -> int:
    settings = get_settings()
    searcher = Searcher(settings.index, make_encoder(settings))
    status = 0
    for text in _questions(question):
        try:
            _print_result(searcher.search(text, k), as_json)
        except QueryError as error:
            status = 2 if question is not None else status
            if as_json:
                print(json.dumps({"query": text, "error": str(error)}, ensure_ascii=False))
            else:
                print(f"错误：{error}", file=sys.stderr)
        sys.stdout.flush()
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer", description="办事指南索引：构建、校验、检索")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="构建或增量更新索引")
    build.add_argument("--force", action="store_true", help="忽略缓存，全部重新编码")
    commands.add_parser("validate", help="校验 knowledge/guides 和 knowledge/bundles 下的每个文件")
    search = commands.add_parser("search", help="检索；不给问题时从标准输入每行读一个")
    search.add_argument("question", nargs="?")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "validate":
        return _validate()
    if args.command == "build":
        return _build(args.force)
    return _search(args.question, args.k, args.json)


if __name__ == "__main__":
    sys.exit(main())
