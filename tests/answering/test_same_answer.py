"""The same question gets the same answer in every process: nothing the answering core decides
may depend on Python's per-process string hashing (set order)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from core.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

QUESTIONS = [
    "洁婚证在哪里办要带什么",
    "我屋头老汉满八十了那个每个月的钱咋个领",
    "身份證丟了怎麼補辦",
    "开个小饭馆要办哪些证",
    "公积金咋个取出来要带啥",
    "娃儿刚生要办些啥子",
]
DECIDE = """
import json, sys
from answering.core import decide
from answering.turn import Turn
out = []
for text in json.loads(sys.argv[1]):
    d = decide(Turn(text=text))
    out.append([d.kind.value, d.evidence, d.aspect, d.guide and d.guide.id, d.situation and d.situation.id,
                d.plan and d.plan.bundle.id])
print(json.dumps(out))
"""


def _decisions(seed: str) -> list:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-c", DECIDE, json.dumps(QUESTIONS, ensure_ascii=False)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_decisions_do_not_depend_on_the_process_hash_seed() -> None:
    assert _decisions("1") == _decisions("2") == _decisions("5")
