"""A running process follows new index builds: version in the manifest, atomic swap, old searcher
still usable, invalid guides kept at their last good version, removed guides gone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from core.settings import PROJECT_ROOT, KnowledgeSettings, Settings
from indexer.builder import build_index
from indexer.encoder import DenseEncoder
from indexer.live import LiveSearcher
from indexer.search import Searcher
from indexer.store import IndexPaths, read_manifest
from tests.indexer.conftest import copy_knowledge, settings_in

pytestmark = pytest.mark.slow

FEE_QUESTION = "高龄补贴收不收费"


def _edit(settings: Settings, guide_id: str, change: dict) -> None:
    path = settings.knowledge.guides_dir / f"{guide_id}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for section, values in change.items():
        data[section] = {**data[section], **values} if isinstance(values, dict) else values
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _fee_text(searcher: Searcher) -> str:
    return searcher.search(FEE_QUESTION, k=1).hits[0].text


@pytest.fixture(scope="module")
def first_build(tmp_path_factory: pytest.TempPathFactory, encoder: DenseEncoder) -> Path:
    """Knowledge and its first index, built once; each test changes a copy."""
    root = tmp_path_factory.mktemp("first-build")
    assert build_index(settings_in(root, copy_knowledge(root / "knowledge")), encoder=encoder).version == 1
    return root


@pytest.fixture
def built(tmp_path: Path, first_build: Path) -> Settings:
    root = tmp_path / "copy"
    shutil.copytree(first_build, root)
    knowledge = root / "knowledge"
    return settings_in(
        root,
        KnowledgeSettings(
            guides_dir=knowledge / "guides",
            policies_dir=knowledge / "policies",
            dictionary_dir=knowledge / "dictionary",
            halls_file=knowledge / "halls.yaml",
            bundles_dir=knowledge / "bundles",
        ),
    )


def _wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_version_rises_only_when_the_content_changes(built: Settings, encoder: DenseEncoder) -> None:
    first = read_manifest(IndexPaths(built.index.index_dir))
    assert first is not None and first.version == 1 and first.content
    assert build_index(built, encoder=encoder, force=True).version == 1  # same content, same version
    _edit(built, "gaoling_butie", {"fees": {"standard": "不收费，亦不收取工本费"}})
    report = build_index(built, encoder=encoder)
    assert report.version == 2
    second = read_manifest(IndexPaths(built.index.index_dir))
    assert second is not None and (second.version, second.content != first.content) == (2, True)


def test_a_new_build_is_swapped_in_while_a_held_searcher_finishes_on_the_old(
    built: Settings, encoder: DenseEncoder
) -> None:
    swapped: list[int] = []
    live = LiveSearcher(
        built.index, encoder, check_seconds=0.2, on_swap=lambda s: swapped.append(s.manifest.version)
    )
    live.start()
    try:
        old = live.current
        assert "亦不收取工本费" not in _fee_text(old)

        holding, release, seen = threading.Event(), threading.Event(), []

        def long_search() -> None:
            searcher = live.current  # taken before the build, used after the swap
            holding.set()
            release.wait(30)
            seen.append(_fee_text(searcher))

        worker = threading.Thread(target=long_search)
        worker.start()
        holding.wait(10)

        _edit(built, "gaoling_butie", {"fees": {"standard": "不收费，亦不收取工本费"}})
        build_index(built, encoder=encoder)
        _wait_for(lambda: live.version.version == 2)

        release.set()
        worker.join(30)
        assert seen and "亦不收取工本费" not in seen[0]  # the old index still answers its search
        assert "亦不收取工本费" in _fee_text(live.current)
        assert live.current.encoder is encoder  # the model is reused, not loaded again
        assert swapped == [2]
        assert not live.check()  # nothing newer: no reload
    finally:
        live.stop()


def test_an_unchanged_manifest_is_not_reloaded(built: Settings, encoder: DenseEncoder) -> None:
    live = LiveSearcher(built.index, encoder, check_seconds=60)
    first = live.current
    build_index(built, encoder=encoder)  # up to date: nothing written
    assert not live.check() and live.current is first


def test_an_invalid_guide_keeps_its_last_good_version(built: Settings, encoder: DenseEncoder) -> None:
    _edit(built, "gaoling_butie", {"fees": {"standard": "按新标准收取工本费 99 元"}, "max_visits": 5})
    _edit(built, "juzhuzheng_shenling", {"fees": {"standard": "居住证首次申领收取 7 元（示例）"}})
    report = build_index(built, encoder=encoder)

    assert report.kept == ["gaoling_butie.yaml"]
    assert any(p.file.name == "gaoling_butie.yaml" and p.field == "max_visits" for p in report.problems)
    assert "无效，继续提供上一版 gaoling_butie.yaml: max_visits" in report.summary()
    searcher = Searcher(built.index, encoder)
    assert searcher.guide("gaoling_butie") is not None
    assert "99 元" not in _fee_text(searcher)  # the old version, not the broken edit
    assert "7 元" in searcher.search("居住证申领收费吗", k=1).hits[0].text  # the valid edit is live
    assert report.version == 2


def test_a_removed_guide_leaves_the_index(built: Settings, encoder: DenseEncoder) -> None:
    (built.knowledge.guides_dir / "gaoling_butie.yaml").unlink()
    report = build_index(built, encoder=encoder)
    assert report.guides == 3 and not report.problems
    searcher = Searcher(built.index, encoder)
    assert searcher.guide("gaoling_butie") is None
    assert all(hit.doc_id != "gaoling_butie" for hit in searcher.search(FEE_QUESTION, k=5).hits)


def test_build_exits_non_zero_naming_the_invalid_file_and_field(built: Settings) -> None:
    _edit(built, "gaoling_butie", {"max_visits": 5})
    knowledge, index = built.knowledge, built.index
    env = {
        **os.environ,
        "ZY_KNOWLEDGE__GUIDES_DIR": str(knowledge.guides_dir),
        "ZY_KNOWLEDGE__POLICIES_DIR": str(knowledge.policies_dir),
        "ZY_KNOWLEDGE__DICTIONARY_DIR": str(knowledge.dictionary_dir),
        "ZY_KNOWLEDGE__HALLS_FILE": str(knowledge.halls_file),
        "ZY_KNOWLEDGE__BUNDLES_DIR": str(knowledge.bundles_dir),
        "ZY_INDEX__INDEX_DIR": str(index.index_dir),
        "ZY_INDEX__JIEBA_DICT_DIR": str(index.jieba_dict_dir),
        "ZY_INDEX__RASA_DATA_DIR": str(index.rasa_data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "indexer", "build"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "gaoling_butie.yaml: max_visits" in done.stdout
    assert "gaoling_butie.yaml" in done.stderr
    manifest = read_manifest(IndexPaths(index.index_dir))
    assert manifest is not None and manifest.version == 1  # the served version did not change
