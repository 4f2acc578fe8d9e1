"""A guide's fee edited, for bench.workbench: how long until searches quote the new fee.

Runs on copies of knowledge/ and of the built index (nothing of the project's own is changed;
the copied index is current, so the edit's build re-encodes only the changed chunks).

- 改前: rebuild, then restart the searching process: a fresh process loads the model and the
  index and answers its first search (timed from its start to that answer).
- 改后: a running LiveSearcher (indexer/live.py, checking every index_check_seconds) while a
  thread searches throughout, SEARCHES_PER_SECOND (a busy process, not a saturated one: the build
  shares this machine's cores): time from the new index landing to the first answer quoting the
  new fee, latency while the build and the swap happen against the steady state before, errors,
  and stale answers from searches begun after the swap.

Both columns start from the moment the build has written the new index (its manifest): the build
process then still writes Rasa's data and exits, which the running process need not wait for.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.latency import percentile
from core.settings import PROJECT_ROOT, Settings
from core.stack import Overrides, environment
from indexer.encoder import DenseEncoder
from indexer.live import LiveSearcher
from indexer.store import IndexPaths

FEE_QUESTION = "新农合今年交好多钱"
EDITED = "chengxiang_jumin_yibao_jiaofei.yaml"
OLD_FEE, NEW_FEE = "400元", "437元"
EVAL_QUESTIONS = PROJECT_ROOT / "bench" / "data" / "retrieval_eval.yaml"
SEARCHES_PER_SECOND = 20.0
SWAP_TIMEOUT_SECONDS = 120.0
AFTER_SWAP_SECONDS = 2.0  # searches watched after the swap, for stale answers
DURING_SWAP_TAIL_SECONDS = 1.0  # the "during" window ends this long after the swap

# A restarted searching process: interpreter, imports, model and index loaded, first answer.
COLD_START = """
import json, sys
from core.settings import get_settings
from indexer.builder import make_encoder
from indexer.search import Searcher

settings = get_settings()
hit = Searcher(settings.index, make_encoder(settings)).search(sys.argv[1], k=1).hits[0]
print(json.dumps({"text": hit.text}, ensure_ascii=False))
"""


@dataclass(frozen=True)
class Sample:
    started: float
    ms: float
    fee_is_new: bool | None  # for the fee question: whether the first hit quotes the new fee
    error: str | None = None


@dataclass(frozen=True)
class ReloadFigures:
    chunks: int
    build_seconds: float
    build_tail_seconds: float  # from the new index landing until the build process exited
    cold_start_seconds: float  # 改前: a fresh process until its first answer
    cold_start_new_fee: bool
    visible_seconds: float  # 改后: the new index landing until the first answer with the new fee
    steady_ms: tuple[float, float, int]  # p50, p95, searches
    during_ms: tuple[float, float, int]
    errors: int
    stale_after_swap: int
    versions: tuple[int, int]


def copies(root: Path, base: Settings) -> Overrides:
    """knowledge/ and the generated index, jieba and Rasa files copied under ``root``."""
    shutil.copytree(PROJECT_ROOT / "knowledge", root / "knowledge")
    shutil.copytree(base.index.index_dir, root / "index")
    shutil.copytree(base.index.jieba_dict_dir, root / "jieba")
    shutil.copytree(base.index.rasa_data_dir, root / "rasa")
    knowledge = root / "knowledge"
    return {
        "knowledge": {
            "guides_dir": knowledge / "guides",
            "policies_dir": knowledge / "policies",
            "dictionary_dir": knowledge / "dictionary",
            "halls_file": knowledge / "halls.yaml",
            "holidays_dir": knowledge / "holidays",
        },
        "index": {
            "index_dir": root / "index",
            "jieba_dict_dir": root / "jieba",
            "rasa_data_dir": root / "rasa",
        },
    }


def edit_fee(guides_dir: Path) -> None:
    """One fee changed: the 收费标准 line of the 新农合 guide."""
    path = guides_dir / EDITED
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    edited = [
        line.replace(OLD_FEE, NEW_FEE) if line.lstrip().startswith("standard:") else line for line in lines
    ]
    if edited == lines:
        raise RuntimeError(f"{path} 的收费标准里没有 {OLD_FEE}：基准的改动找不到对象")
    path.write_text("".join(edited), encoding="utf-8")


def _settings_with(base: Settings, overrides: Overrides) -> Settings:
    return base.model_copy(
        update={
            section: getattr(base, section).model_copy(update=dict(values))
            for section, values in overrides.items()
        }
    )


class _Searching:
    """A thread searching the live index at SEARCHES_PER_SECOND (at once when a search took
    longer): the fee question every other time."""

    def __init__(self, live: LiveSearcher, questions: list[str]) -> None:
        self._live = live
        self._questions = questions
        self._stop = threading.Event()
        self.samples: list[Sample] = []
        self._thread = threading.Thread(target=self._run, name="bench-searching", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        n = 0
        interval = 1 / SEARCHES_PER_SECOND
        next_start = time.monotonic()
        while not self._stop.wait(max(0.0, next_start - time.monotonic())):
            next_start += interval
            fee = n % 2 == 0
            question = FEE_QUESTION if fee else self._questions[(n // 2) % len(self._questions)]
            n += 1
            started = time.monotonic()
            try:
                hits = self._live.current.search(question, k=5).hits
            except Exception as error:  # counted and shown: the benchmark's point is that none happen
                self.samples.append(Sample(started, 0.0, None, f"{type(error).__name__}: {error}"))
                continue
            ms = (time.monotonic() - started) * 1000
            self.samples.append(Sample(started, ms, (NEW_FEE in hits[0].text) if fee and hits else None))


def _window(samples: list[Sample], start: float, end: float) -> tuple[float, float, int]:
    ms = [s.ms for s in samples if start <= s.started < end and s.error is None]
    return percentile(ms, 0.5), percentile(ms, 0.95), len(ms)


def measure(
    base: Settings, encoder: DenseEncoder, root: Path, *, steady_seconds: float, cold_runs: int
) -> ReloadFigures:
    overrides = copies(root, base)
    settings = _settings_with(base, overrides)
    env = environment(settings, overrides)
    questions = [str(q["q"]) for q in yaml.safe_load(EVAL_QUESTIONS.read_text(encoding="utf-8"))["questions"]]

    swapped_at: list[float] = []
    live = LiveSearcher(
        settings.index,
        encoder,
        check_seconds=base.workbench.index_check_seconds,
        on_swap=lambda _searcher: swapped_at.append(time.monotonic()),
    )
    first_version = live.version.version
    live.current.warm_up()
    live.start()
    searching = _Searching(live, questions)
    searching.start()
    try:
        steady_from = time.monotonic()
        time.sleep(steady_seconds)
        edit_fee(settings.knowledge.guides_dir)
        build_from = time.monotonic()
        built = subprocess.run(
            [sys.executable, "-m", "indexer", "build"],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            env=env,
            timeout=600,
        )
        build_done = time.monotonic()
        if built.returncode != 0:
            raise RuntimeError(
                f"python -m indexer build 失败（{built.returncode}）：\n{built.stdout}{built.stderr}"
            )
        landed = _landed(settings)
        deadline = build_done + SWAP_TIMEOUT_SECONDS
        while not swapped_at and time.monotonic() < deadline:
            time.sleep(0.05)
        if not swapped_at:
            raise RuntimeError(f"构建完成 {SWAP_TIMEOUT_SECONDS:.0f} 秒后运行中的检索仍未换上新索引")
        time.sleep(AFTER_SWAP_SECONDS)
    finally:
        searching.stop()
        live.stop()
    swap = swapped_at[0]
    samples = searching.samples
    first_new = min((s.started + s.ms / 1000 for s in samples if s.fee_is_new), default=float("nan"))
    cold = [_cold_start(env) for _ in range(cold_runs)]
    return ReloadFigures(
        chunks=live.current.manifest.chunk_count,
        build_seconds=build_done - build_from,
        build_tail_seconds=build_done - landed,
        cold_start_seconds=statistics.median(seconds for seconds, _new in cold),
        cold_start_new_fee=all(new for _seconds, new in cold),
        visible_seconds=first_new - landed,  # NaN when no answer quoted the new fee
        steady_ms=_window(samples, steady_from, build_from),
        during_ms=_window(samples, build_from, swap + DURING_SWAP_TAIL_SECONDS),
        errors=sum(s.error is not None for s in samples),
        stale_after_swap=sum(s.fee_is_new is False and s.started >= swap for s in samples),
        versions=(first_version, live.version.version),
    )


def _landed(settings: Settings) -> float:
    """When the new index appeared, on the monotonic clock: its manifest is written just before
    the two renames that put it in place."""
    written = IndexPaths(settings.index.index_dir).manifest.stat().st_mtime
    return time.monotonic() - max(0.0, time.time() - written)


def _cold_start(env: dict[str, str]) -> tuple[float, bool]:
    """Seconds from starting a fresh searching process to its first answer; whether it quotes
    the new fee."""
    started = time.monotonic()
    answered = subprocess.run(
        [sys.executable, "-c", COLD_START, FEE_QUESTION],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=300,
        check=True,
    )
    seconds = time.monotonic() - started
    text = json.loads(answered.stdout.strip().splitlines()[-1])["text"]
    return seconds, NEW_FEE in text
