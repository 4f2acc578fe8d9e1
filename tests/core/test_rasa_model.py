"""The Rasa training fingerprint depends on what the generated files say, not where they are."""

from __future__ import annotations

from pathlib import Path

from core.rasa_model import _label, fingerprint, training_inputs
from core.settings import IndexSettings, Settings


def _generated(root: Path, typo_terms: str = "身份证\n居住证\n") -> Settings:
    """Settings whose generated NLU data, jieba dictionary and typo terms live under ``root``."""
    settings = Settings(
        index=IndexSettings(
            index_dir=root / "index", jieba_dict_dir=root / "jieba", rasa_data_dir=root / "rasa"
        )
    )
    for folder, name, text in (
        (settings.index.rasa_data_dir, "services_nlu.yml", "version: '3.1'\nnlu: []\n"),
        (settings.index.jieba_dict_dir, "userdict.txt", "居住证 2000000 n\n"),
        (settings.index.index_dir, "typo_terms.txt", typo_terms),
    ):
        folder.mkdir(parents=True)
        (folder / name).write_text(text, encoding="utf-8")
    return settings


def test_the_same_data_built_elsewhere_keeps_the_trained_model_current(tmp_path: Path) -> None:
    here, there = _generated(tmp_path / "a"), _generated(tmp_path / "b")
    assert fingerprint(here) == fingerprint(there)
    assert fingerprint(_generated(tmp_path / "c", typo_terms="身份证\n")) != fingerprint(here)


def test_generated_files_are_named_as_in_their_default_folders(tmp_path: Path) -> None:
    settings = _generated(tmp_path)
    labels = {_label(path, settings) for path in training_inputs(settings)}
    assert {"var/rasa/services_nlu.yml", "var/jieba/userdict.txt", "var/index/typo_terms.txt"} <= labels
    assert "config.yml" in labels and not any(str(tmp_path) in label for label in labels)
