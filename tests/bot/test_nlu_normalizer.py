"""bot/nlu/normalizer.py inside Rasa (.venv-rasa): the NLU reads the words the retrieval reads."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from core.rasa_model import rasa_env
from core.settings import PROJECT_ROOT

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

# Runs in .venv-rasa; prints what the component made of a few messages as JSON.
SCRIPT = """
import json, sys
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.nlu.normalizer import TextNormalizer

registered = DefaultV1Recipe._from_registry("bot.nlu.normalizer.TextNormalizer")
component = TextNormalizer.create({"terms_file": sys.argv[1]}, None, None, None)
typed = ("喂，你好，身分正過期了咋個辦嘛？", "嗯", "户口簿丢了", '/inform{"service": "身分正"}')
incoming = [Message.build(text) for text in typed]
component.process(incoming)
entity = {"start": 0, "end": 3, "value": "居住证", "entity": "service"}
training = TrainingData([
    Message.build("那个，护招在哪里办", intent="inform"),
    Message.build("居住证，那个，在哪办", intent="inform", entities=[entity]),
    Message.build("居住証在哪裡辦", intent="inform", entities=[entity]),
])
component.process_training_data(training)
missing = TextNormalizer.create({"terms_file": sys.argv[1] + ".missing"}, None, None, None)
print(json.dumps({
    "types": sorted(t.name for t in registered.types),
    "incoming": [m.as_dict(only_output_properties=True) for m in incoming],
    "training": [m.get("text") for m in training.training_examples],
    "without_terms": missing.process([Message.build("身分正過期了")])[0].get("text"),
    "fingerprint_changes": TextNormalizer.fingerprint_addon({"terms_file": sys.argv[1]})
        != TextNormalizer.fingerprint_addon({"terms_file": sys.argv[1] + ".missing"}),
}, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def rasa_python() -> Path:
    """.venv-rasa's interpreter; outside CI a machine without it skips these tests."""
    if not RASA_PYTHON.exists():
        if os.environ.get("CI") or os.environ.get("ZY_REQUIRE_RASA") == "1":
            pytest.fail(f"{RASA_PYTHON} is missing (run scripts/setup.sh)", pytrace=False)
        pytest.skip(f"{RASA_PYTHON} is missing (run scripts/setup.sh)")
    return RASA_PYTHON


@pytest.fixture(scope="module")
def outcome(rasa_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    terms = tmp_path_factory.mktemp("terms") / "typo_terms.txt"
    terms.write_text("身份证\n护照\n居住证\n户口簿\n", encoding="utf-8")
    done = subprocess.run(
        [str(rasa_python), "-c", SCRIPT, str(terms)],
        cwd=PROJECT_ROOT,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_incoming_text_is_normalised_and_corrected_keeping_the_residents_words(outcome: dict) -> None:
    first, yes, right, button = outcome["incoming"]
    assert first["text"] == "身份证过期了咋个办?"
    assert first["original_text"] == "喂，你好，身分正過期了咋個辦嘛？"
    assert first["typo_corrections"] == [["身分正", "身份证"]]
    assert yes == {"text": "嗯"}  # 嗯 alone still says yes
    assert right == {"text": "户口簿丢了"}
    assert button == {"text": '/inform{"service": "身分正"}'}  # a button's payload is not resident text


def test_training_text_is_rewritten_unless_entity_offsets_would_move(outcome: dict) -> None:
    assert outcome["training"] == [
        "护照在哪里办",  # no entities: fillers dropped and the slip corrected
        "居住证，那个，在哪办",  # dropping 那个 would move the annotated offsets
        "居住证在哪里办",  # same length: safe to rewrite
    ]


def test_without_the_terms_file_it_still_normalises(outcome: dict) -> None:
    assert outcome["without_terms"] == "身分正过期了"
    assert outcome["fingerprint_changes"]


def test_it_runs_first_over_training_data_and_messages(outcome: dict) -> None:
    assert outcome["types"] == ["MESSAGE_TOKENIZER"]  # the recipe runs these on both
    pipeline = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    assert pipeline[0] == {
        "name": "bot.nlu.normalizer.TextNormalizer",
        "terms_file": "var/index/typo_terms.txt",
    }
