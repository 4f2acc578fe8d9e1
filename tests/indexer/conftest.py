"""Fixtures for indexer tests: a small copy of the real knowledge base and the real model."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, IndexSettings, KnowledgeSettings, Settings, get_settings
from indexer.builder import make_encoder
from indexer.encoder import DenseEncoder

KNOWLEDGE = PROJECT_ROOT / "knowledge"
SMALL_SET = (
    "gaoling_butie",
    "chengxiang_jumin_yibao_jiaofei",
    "juzhuzheng_shenling",
    "juzhu_zhengming_kaiju",
)


@pytest.fixture(scope="session")
def encoder() -> DenseEncoder:
    """The bundled model, loaded once for the whole session."""
    model = make_encoder(get_settings())
    model.warm_up()
    return model


def copy_knowledge(root: Path) -> KnowledgeSettings:
    """A writable knowledge folder with a few real guides, the dictionary and the policy."""
    (root / "guides").mkdir(parents=True)
    for guide_id in SMALL_SET:
        shutil.copy(KNOWLEDGE / "guides" / f"{guide_id}.yaml", root / "guides")
    shutil.copytree(KNOWLEDGE / "dictionary", root / "dictionary")
    shutil.copytree(KNOWLEDGE / "policies", root / "policies")
    shutil.copy(KNOWLEDGE / "halls.yaml", root / "halls.yaml")
    return KnowledgeSettings(
        guides_dir=root / "guides",
        policies_dir=root / "policies",
        dictionary_dir=root / "dictionary",
        halls_file=root / "halls.yaml",
        bundles_dir=root / "bundles",  # none: the real bundles need guides this small set lacks
    )


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> KnowledgeSettings:
    return copy_knowledge(tmp_path / "knowledge")


def settings_in(root: Path, knowledge: KnowledgeSettings) -> Settings:
    """Settings whose index and jieba dictionary live under ``root``, with the bundled model."""
    return Settings(
        knowledge=knowledge,
        # Every generated file under root: a test build must not rewrite the project's var/rasa
        # (that would make the next `make run` retrain Rasa on the test's few guides).
        index=IndexSettings(
            index_dir=root / "index", jieba_dict_dir=root / "jieba", rasa_data_dir=root / "rasa"
        ),
    )


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[[KnowledgeSettings], Settings]:
    return lambda knowledge: settings_in(tmp_path, knowledge)
