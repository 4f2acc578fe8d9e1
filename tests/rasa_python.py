"""Run a script with Rasa's Python (.venv-rasa), as Rasa would load the project's code, and read the
JSON line it prints last — for tests of the project's modules that only Rasa imports."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from core.rasa_model import rasa_env
from core.settings import PROJECT_ROOT

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"


def run_in_rasa(script: str, *args: str, timeout: float = 300) -> Any:
    if not RASA_PYTHON.exists():
        pytest.fail("the Rasa environment is missing: run `make setup`")
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", script, *args],
        capture_output=True,
        text=True,
        env=rasa_env(),
        cwd=PROJECT_ROOT,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
