"""Train the Rasa model only when its inputs changed (content hash of every input file)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from core.settings import PROJECT_ROOT, IndexSettings, Settings, get_settings

MODEL_NAME = "zunyi"


def training_inputs(settings: Settings) -> list[Path]:
    root = PROJECT_ROOT
    files = [root / "config.yml", root / "domain.yml", *sorted((root / "bot").rglob("*.yml"))]
    files += sorted((root / "bot" / "nlu").glob("*.py"))
    files += sorted(settings.index.rasa_data_dir.glob("*.yml"))
    files += sorted(settings.index.jieba_dict_dir.glob("*.txt"))
    # The normaliser rewrites training examples with these terms (bot/nlu/normalizer.py).
    files += sorted(settings.index.index_dir.glob("typo_terms.txt"))
    # The dense featurizer's features come from the ONNX export beside the model directory
    # (indexer.onnx_encoder.onnx_dir; core cannot import indexer).
    model = settings.index.model_path
    files += sorted(model.parent.glob(f"{model.name}-onnx/export.json"))
    return files


def _label(path: Path, settings: Settings) -> str:
    """A training input's name in the fingerprint. Generated files are named by their role (as if
    in their default folder), so the same data built into other folders — a test's copy of the
    knowledge and index — keeps the trained model current."""
    defaults = IndexSettings()
    for folder, default in (
        (settings.index.rasa_data_dir, defaults.rasa_data_dir),
        (settings.index.jieba_dict_dir, defaults.jieba_dict_dir),
        (settings.index.index_dir, defaults.index_dir),
    ):
        if path.parent == folder:
            path = default / path.name
            break
    return str(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path)


def fingerprint(settings: Settings) -> str:
    digest = hashlib.sha256()
    for path in training_inputs(settings):
        digest.update(_label(path, settings).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def model_path(settings: Settings) -> Path:
    return settings.rasa.models_dir / f"{MODEL_NAME}.tar.gz"


def rasa_env() -> dict[str, str]:
    """Rasa loads bot.nlu components from the project root; keep its telemetry off."""
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "RASA_TELEMETRY_ENABLED": "false"}


def ensure_trained(settings: Settings, *, force: bool = False) -> Path:
    """Train into ``models/zunyi.tar.gz`` unless the stamp says these exact inputs made it."""
    target = model_path(settings)
    settings.rasa.models_dir.mkdir(parents=True, exist_ok=True)
    # Two trainings at once (make test beside make bench-nlu) would write the same model file.
    with (settings.rasa.models_dir / ".train.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _train_unless_current(settings, target, force=force)


def _train_unless_current(settings: Settings, target: Path, *, force: bool) -> Path:
    stamp = target.with_suffix(".sha256")
    wanted = fingerprint(settings)
    if not force and target.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        print(f"Rasa 模型已是最新：{target}")
        return target
    print("训练 Rasa 模型（训练数据、配置或领域有变化）…", flush=True)
    command = [
        str(settings.rasa.executable),
        "train",
        "--data",
        "bot",
        str(settings.index.rasa_data_dir),
        "--domain",
        "domain.yml",
        "--config",
        "config.yml",
        "--out",
        str(settings.rasa.models_dir),
        "--fixed-model-name",
        MODEL_NAME,
    ]
    subprocess.run(command, cwd=PROJECT_ROOT, env=rasa_env(), check=True)
    stamp.write_text(wanted)
    return target


if __name__ == "__main__":
    ensure_trained(get_settings(), force="--force" in sys.argv)
