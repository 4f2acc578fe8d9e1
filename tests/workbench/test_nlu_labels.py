"""Intents staff label in the inbox become examples in a reviewed Rasa NLU file (a temporary one
here, never the repository's bot/nlu/data/annotated.yml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.rasa_model import training_inputs
from core.settings import PROJECT_ROOT, Settings
from services.errors import InvalidInput
from workbench.nlu_labels import known_intents, label_examples


def _examples(path: Path) -> dict[str, list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["version"] == "3.1" and isinstance(data["nlu"], list)
    blocks: dict[str, list[str]] = {}
    for block in data["nlu"]:
        assert set(block) == {"intent", "examples"}
        assert block["intent"] not in blocks, "one block per intent"
        blocks[block["intent"]] = [line[2:] for line in block["examples"].splitlines()]
        assert all(line.startswith("- ") for line in block["examples"].splitlines())
    return blocks


def test_labelled_questions_are_appended_under_their_intent_once(tmp_path: Path) -> None:
    annotated = tmp_path / "data" / "annotated.yml"
    first = label_examples(
        annotated, "ask_fee", ["低保收钱不", "  低保收钱不\n", "办证[加急](service)要钱不"]
    )
    second = label_examples(annotated, "ask_location", ["高龄补贴在哪点办", "低保收钱不"])
    label_examples(annotated, "ask_fee", ["身份证补办好多钱，我电话13985001234"])

    assert first.added == ("低保收钱不", "办证【加急】(service)要钱不")
    assert second.added == ("高龄补贴在哪点办",) and second.already_known == ("低保收钱不",)
    assert _examples(annotated) == {
        "ask_fee": ["低保收钱不", "办证【加急】(service)要钱不", "身份证补办好多钱，我电话139****1234"],
        "ask_location": ["高龄补贴在哪点办"],
    }
    assert annotated.read_text(encoding="utf-8").startswith("# ")


def test_examples_the_training_data_already_has_are_not_written_again(tmp_path: Path) -> None:
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: ask_fee\n  examples: |\n    - [低保](service)收不收费\n',
        encoding="utf-8",
    )
    labelled = label_examples(tmp_path / "annotated.yml", "ask_fee", ["低保收不收费"])
    assert labelled.added == () and labelled.already_known == ("低保收不收费",)
    assert not (tmp_path / "annotated.yml").exists()


def test_an_intent_the_domain_does_not_declare_is_refused(tmp_path: Path) -> None:
    annotated = tmp_path / "annotated.yml"
    with pytest.raises(InvalidInput, match="没有这个意图：ask_weather") as refused:
        label_examples(annotated, "ask_weather", ["明天下雨不"])
    assert refused.value.field == "intent"
    assert not annotated.exists()
    assert {"ask_fee", "ask_materials", "greet"} <= set(known_intents())


def test_the_default_file_is_a_training_input() -> None:
    settings = Settings()
    default = settings.workbench.annotated_nlu_file
    assert default == PROJECT_ROOT / "bot" / "nlu" / "data" / "annotated.yml"
    assert default.is_relative_to(PROJECT_ROOT / "bot")  # `rasa train --data bot`
    if default.exists():
        assert default in training_inputs(settings)
