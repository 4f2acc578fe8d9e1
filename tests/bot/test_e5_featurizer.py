"""bot/nlu/e5_featurizer.py inside Rasa (.venv-rasa): the retrieval's embedding as DIET's sentence feature."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from core.rasa_model import rasa_env
from core.settings import PROJECT_ROOT, get_settings
from indexer.onnx_export import export_onnx

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

# Runs in .venv-rasa; prints what the component made of a few messages as JSON.
SCRIPT = """
import json, sys
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.nlu.e5_featurizer import E5Featurizer

def features(message):
    sequence, sentence = message.get_dense_features("text", [])
    return None if sequence is None else sequence.features, None if sentence is None else sentence.features

registered = DefaultV1Recipe._from_registry("bot.nlu.e5_featurizer.E5Featurizer")
config = {**E5Featurizer.get_default_config(), "quantized": sys.argv[1] == "int8", "batch_size": 4}
component = E5Featurizer.create(config, None, None, ExecutionContext(GraphSchema({}), node_name="e5"))
texts = ["身份证丢了怎么补办", "身份证搞掉了咋个补办", "今天天气怎么样", "/greet"]
incoming = [Message.build(text) for text in texts] + [Message(data={"intent": "greet"})]
component.process(incoming)
training = TrainingData([Message.build(text, intent="inform") for text in texts * 3])
component.process_training_data(training)
vectors = [features(m)[1] for m in incoming[:3]]
lost, found, weather = (v[0] for v in vectors)
print(json.dumps({
    "types": sorted(t.name for t in registered.types),
    "shapes": [None if s is None else list(s.shape) for s in (features(m)[1] for m in incoming)],
    "sequence_features": [features(m)[0] is not None for m in incoming],
    "paraphrase": float(lost @ found),
    "unrelated": [float(lost @ weather), float(found @ weather)],
    "training_shapes": sorted({tuple(features(m)[1].shape) for m in training.training_examples}),
    "training_vs_incoming": float(max(
        np.abs(features(t)[1] - features(incoming[i % 4])[1]).max()
        for i, t in enumerate(training.training_examples)
    )),
    "torch_loaded": "torch" in sys.modules,
}))
"""


@pytest.fixture(scope="module")
def rasa_python() -> Path:
    """.venv-rasa's interpreter; outside CI a machine without it skips these tests."""
    if not RASA_PYTHON.exists():
        if os.environ.get("CI") or os.environ.get("ZY_REQUIRE_RASA") == "1":
            pytest.fail(f"{RASA_PYTHON} is missing (run scripts/setup.sh)", pytrace=False)
        pytest.skip(f"{RASA_PYTHON} is missing (run scripts/setup.sh)")
    export_onnx(get_settings().index.model_path)  # a no-op after `make model`
    return RASA_PYTHON


def _run(rasa_python: Path, variant: str) -> dict:
    done = subprocess.run(
        [str(rasa_python), "-c", SCRIPT, variant],
        cwd=PROJECT_ROOT,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module", params=["fp32", "int8"])
def outcome(rasa_python: Path, request: pytest.FixtureRequest) -> dict:
    return _run(rasa_python, request.param)


def test_it_runs_over_training_data_and_messages(outcome: dict) -> None:
    assert outcome["types"] == ["MESSAGE_FEATURIZER"]
    assert not outcome["torch_loaded"]


def test_every_message_with_text_gets_one_sentence_vector(outcome: dict) -> None:
    # The /greet payload too: DIET refuses a message featurized unlike its training data.
    assert outcome["shapes"] == [[1, 384]] * 4 + [None]
    assert outcome["sequence_features"] == [False] * 5
    assert outcome["training_shapes"] == [[1, 384]]


def test_training_examples_are_featurized_like_incoming_messages(outcome: dict) -> None:
    assert outcome["training_vs_incoming"] < 1e-5  # batched with others vs one by one


def test_paraphrases_lie_closer_than_an_unrelated_question(outcome: dict) -> None:
    assert outcome["paraphrase"] > max(outcome["unrelated"]) + 0.05
