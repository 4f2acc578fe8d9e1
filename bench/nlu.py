"""NLU quality on the held-out splits: ``.venv/bin/python -m bench.nlu``.

Trains the model if its inputs changed (printing how long that took), runs
``rasa test nlu`` on the dev split (bench/data/nlu_dev.yml, for tuning) and the test split
(bench/data/nlu_test.yml, for reporting) and prints intent macro-F1 and entity F1 of each.
Refuses to report if a held-out sentence also appears in the training data (bot/nlu/data).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import time
from pathlib import Path

import yaml

from core.rasa_model import ensure_trained, model_path, rasa_env
from core.settings import PROJECT_ROOT, VAR_DIR, get_settings

SPLITS = {
    "dev": Path(__file__).parent / "data" / "nlu_dev.yml",
    "test": Path(__file__).parent / "data" / "nlu_test.yml",
}
TRAINING_DATA = PROJECT_ROOT / "bot" / "nlu" / "data"
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\{[^}]*\}|\([^)]*\))")


def example_texts(path: Path) -> set[str]:
    """The plain text of every intent example in a Rasa NLU YAML file (annotations removed)."""
    texts = set()
    for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
        for line in str(item.get("examples", "")).splitlines() if "intent" in item else []:
            if line.strip().startswith("- "):
                texts.add(_ANNOTATION.sub(r"\1", line.strip()[2:]).strip())
    return texts


def leaked_examples(split: Path) -> set[str]:
    training = set().union(*(example_texts(path) for path in sorted(TRAINING_DATA.glob("*.yml"))))
    return example_texts(split) & training


def main() -> None:
    for split in SPLITS.values():
        leaked = leaked_examples(split)
        if leaked:
            raise SystemExit(f"{split} 的这些例句也出现在 {TRAINING_DATA} 里，不再是留出的：{sorted(leaked)}")
    settings = get_settings()
    before = _mtime(model_path(settings))
    started = time.perf_counter()
    model = ensure_trained(settings)
    if _mtime(model) != before:
        print(f"训练用时 {time.perf_counter() - started:.0f} s")
    else:
        # `make bench-nlu` trains first (make train), so a current model is the usual case here.
        trained_at = dt.datetime.fromtimestamp(model.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")
        print(f"模型已是最新，本次未训练（模型生成于 {trained_at}）")
    for name, split in SPLITS.items():
        print(f"== {name}（{split.name}）")
        report(model, split, VAR_DIR / f"nlu_results_{name}")


def report(model: Path, split: Path, out: Path) -> None:
    """Run ``rasa test nlu`` on one split and print its intent and entity scores."""
    settings = get_settings()
    subprocess.run(
        [
            str(settings.rasa.executable),
            "test",
            "nlu",
            "--nlu",
            str(split),
            "--model",
            str(model),
            "--out",
            str(out),
            "--no-plot",
        ],
        cwd=PROJECT_ROOT,
        env=rasa_env(),
        check=True,
        capture_output=True,
    )
    intents = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    print(
        f"意图 macro-F1：{intents['macro avg']['f1-score']:.3f}（准确率 {intents['accuracy']:.3f}，"
        f"{intents['macro avg']['support']} 条）"
    )
    entity_report = out / "DIETClassifier_report.json"
    if entity_report.exists():
        entities = json.loads(entity_report.read_text(encoding="utf-8"))
        micro, macro = entities["micro avg"]["f1-score"], entities["macro avg"]["f1-score"]
        print(f"实体 F1：micro {micro:.3f}，macro {macro:.3f}")
    worst = sorted(
        (
            (name, row["f1-score"])
            for name, row in intents.items()
            if isinstance(row, dict)
            and "f1-score" in row
            and name not in ("macro avg", "weighted avg", "micro avg")
        ),
        key=lambda pair: pair[1],
    )[:5]
    print("最弱的意图：" + "，".join(f"{name} {f1:.2f}" for name, f1 in worst))


def _mtime(path: Path) -> float | None:
    return path.stat().st_mtime if path.exists() else None


if __name__ == "__main__":
    main()
