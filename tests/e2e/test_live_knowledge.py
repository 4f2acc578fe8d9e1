"""A guide edited while the stack runs is answered from after `python -m indexer build`, without a
restart or Rasa retraining; a removed guide stops being bookable.

The stack runs on a copy of knowledge/ and of the built index (nothing of the project's own is
changed). A fee-text edit changes none of the files Rasa is trained on, so the trained model stays
current; if it is not current to begin with, the test skips rather than train.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.rasa_model import fingerprint, model_path
from core.settings import PROJECT_ROOT, Settings, get_settings
from core.stack import UNTHROTTLED, Overrides, Stack, environment, running_stack, stack_settings

pytestmark = pytest.mark.e2e

FEE_QUESTION = "新农合今年交好多钱"
OLD_FEE, NEW_FEE = "400元", "437元"
EDITED = "chengxiang_jumin_yibao_jiaofei.yaml"
REMOVED = "gongzufang_shenqing"  # in no 一件事: removing a bundle's step is reported (exit 1)
SWAP_SECONDS = 30


def _copies(root: Path, base: Settings) -> Overrides:
    """Knowledge and generated files copied under ``root``, as setting overrides."""
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
            "bundles_dir": knowledge / "bundles",
        },
        "index": {
            "index_dir": root / "index",
            "jieba_dict_dir": root / "jieba",
            "rasa_data_dir": root / "rasa",
        },
        "workbench": {"index_check_seconds": 0.5},
    }


def _build(settings: Settings, overrides: Overrides) -> subprocess.CompletedProcess[str]:
    """`python -m indexer build` as a maintainer runs it, with the stack's settings."""
    return subprocess.run(
        [sys.executable, "-m", "indexer", "build"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=environment(settings, overrides),
        timeout=600,
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Overrides]]:
    base = get_settings()
    if not model_path(base).exists() or not base.index.index_dir.joinpath("manifest.json").exists():
        pytest.skip("需要已构建的索引和已训练的 Rasa 模型：make train")
    root = tmp_path_factory.mktemp("live-knowledge")
    overrides: Overrides = {**UNTHROTTLED, **_copies(root, base)}
    settings = stack_settings(root / "stack", overrides)
    built = _build(settings, overrides)
    assert built.returncode == 0, built.stdout + built.stderr
    stamp = model_path(settings).with_suffix(".sha256")
    if not stamp.exists() or stamp.read_text().strip() != fingerprint(settings):
        pytest.skip("Rasa 模型不是最新（先运行 make train）；本测试不训练模型")
    with running_stack(root / "stack", overrides) as stack:
        yield stack, overrides


def _texts(reply: dict[str, Any]) -> str:
    return "\n".join(m.get("text") or "" for m in reply["messages"])


def _versions(stack: Stack) -> tuple[int | None, int | None]:
    versions = httpx.get(f"{stack.url}/readyz", timeout=10).json()["index_versions"]
    return tuple(  # type: ignore[return-value]
        (versions[name] or {}).get("version") for name in ("gateway", "action_server")
    )


def _bookable_at_city(stack: Stack) -> set[str]:
    offers = httpx.get(f"{stack.url}/api/services/halls/city/services", timeout=10).json()
    return {offer["service_id"] for offer in offers}


def test_an_edited_fee_is_answered_after_the_build_without_a_restart(live: tuple[Stack, Overrides]) -> None:
    stack, overrides = live
    before = _versions(stack)
    assert before[0] is not None and before[0] == before[1]
    assert OLD_FEE in _texts(stack.chat(f"web:{uuid.uuid4().hex}", FEE_QUESTION))
    assert REMOVED in _bookable_at_city(stack)

    guides = stack.settings.knowledge.guides_dir
    edited = guides / EDITED
    edited.write_text(edited.read_text(encoding="utf-8").replace(OLD_FEE, NEW_FEE), encoding="utf-8")
    (guides / f"{REMOVED}.yaml").unlink()
    built = _build(stack.settings, overrides)
    assert built.returncode == 0, built.stdout + built.stderr

    started = time.monotonic()
    while _versions(stack) != (before[0] + 1, before[0] + 1):
        assert time.monotonic() - started < SWAP_SECONDS, f"still serving {_versions(stack)}"
        time.sleep(0.5)

    answer = _texts(stack.chat(f"web:{uuid.uuid4().hex}", FEE_QUESTION))
    assert NEW_FEE in answer and OLD_FEE not in answer, answer

    while REMOVED in _bookable_at_city(stack):  # the gateway re-syncs the catalog after its swap
        assert time.monotonic() - started < SWAP_SECONDS, "the removed guide is still bookable"
        time.sleep(0.5)
    day = dt.date.today() + dt.timedelta(days=7)
    refused = httpx.get(
        f"{stack.url}/api/services/halls/city/slots",
        params={"service_id": REMOVED, "day": day.isoformat()},
        timeout=10,
    )
    assert refused.status_code == 409 and "暂停预约" in refused.json()["detail"]["message"]
