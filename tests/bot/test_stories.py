"""Every test story in tests/stories/ against the trained Rasa model (`rasa test core`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.rasa_model import ensure_trained, rasa_env
from core.settings import PROJECT_ROOT, get_settings

pytestmark = pytest.mark.slow

STORIES = PROJECT_ROOT / "tests" / "stories"


def test_all_test_stories_pass(tmp_path: Path) -> None:
    settings = get_settings()
    model = ensure_trained(settings)  # retrains only when data, config or domain changed
    result = subprocess.run(
        [
            str(settings.rasa.executable),
            "test",
            "core",
            "--stories",
            str(STORIES),
            "--model",
            str(model),
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
        ],
        cwd=PROJECT_ROOT,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    # --fail-on-prediction-errors stops at the first wrong prediction and prints that story
    # (with "# predicted: …" on the wrong step) instead of writing failed_test_stories.yml.
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert result.returncode == 0, (
        f"rasa test core failed:\n{details}{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    )
