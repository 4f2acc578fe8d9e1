"""Questions staff labelled with the intent they meant, kept for the next Rasa training.

They go to one reviewed NLU file (settings.workbench.annotated_nlu_file, bot/nlu/data/annotated.yml
by default): Rasa NLU YAML, version "3.1", one ``- intent:`` block per intent. The file lives under
bot/, so ``core.rasa_model`` trains on it and its fingerprint changes with it. Only masked text is
written, and an example already in any NLU file beside it is not written again (Rasa refuses one
example under two intents).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from core.settings import PROJECT_ROOT
from services.errors import InvalidInput
from services.identity import mask_text
from workbench.files import editing, write_atomically

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
NLU_VERSION = "3.1"
HEADER = (
    "# 工作台“未答问题”中由知识管理人员标注意图的问法（已脱敏），下次训练时使用。\n"
    "# 由 workbench/nlu_labels.py 追加；可以人工删改，但请保持 Rasa NLU YAML 格式。\n"
)
_SPACES = re.compile(r"\s+")
# Rasa reads [text](entity) as an entity annotation: a resident's brackets become full-width.
_BRACKETS = str.maketrans({"[": "【", "]": "】"})
_EXAMPLE_LINE = re.compile(r"^\s*-\s+(.*?)\s*$")
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Labelled:
    intent: str
    file: Path
    added: tuple[str, ...]
    already_known: tuple[str, ...] = field(default_factory=tuple)


def known_intents(domain_file: Path = DOMAIN_FILE) -> list[str]:
    """The intents the domain declares (the retrieval intent out_of_scope has its own button)."""
    data = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    names = [next(iter(item)) if isinstance(item, dict) else str(item) for item in data.get("intents", [])]
    return sorted(names)


def label_examples(
    annotated_file: Path, intent: str, texts: Iterable[str], *, domain_file: Path = DOMAIN_FILE
) -> Labelled:
    """Append ``texts`` as examples of ``intent``; refuses an intent the domain does not declare.
    Texts already in the annotated file or another NLU file beside it are skipped (reported)."""
    intents = known_intents(domain_file)
    if not intent:
        raise InvalidInput("请选择意图。", field="intent")
    if intent not in intents:
        raise InvalidInput(f"没有这个意图：{intent}。可选：{'、'.join(intents)}。", field="intent")
    examples = list(dict.fromkeys(_example(text) for text in texts if _example(text)))
    if not examples:
        raise InvalidInput("没有可标注的问法。", field="texts")
    with editing(annotated_file.parent):
        data = _read(annotated_file)
        known = _examples_beside(annotated_file) | _examples_in(data)
        added = tuple(text for text in examples if text not in known)
        if added:
            _block(data, intent).extend(added)
            write_atomically(annotated_file, _dump(data))
    return Labelled(intent, annotated_file, added, tuple(text for text in examples if text in known))


def _nlu_yaml() -> YAML:
    """Round-trip, laid out as the other NLU files are (``- intent:`` at the start of the line)."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 100_000
    yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def _example(text: str) -> str:
    return mask_text(_SPACES.sub(" ", text or "").strip()).translate(_BRACKETS)


def _read(path: Path) -> CommentedMap:
    if not path.exists():
        data = CommentedMap()
        data["version"] = DoubleQuotedScalarString(NLU_VERSION)
        data["nlu"] = CommentedSeq()
        return data
    loaded = _nlu_yaml().load(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, CommentedMap) or not isinstance(loaded.get("nlu"), CommentedSeq):
        raise InvalidInput(
            f"{path.name} 不是 Rasa NLU YAML（缺少 nlu 列表），请先修正该文件。", field="intent"
        )
    return loaded


def _block(data: CommentedMap, intent: str) -> list[str]:
    """The examples of ``intent``'s block as a list to extend (the block is re-rendered on dump)."""
    for item in data["nlu"]:
        if isinstance(item, dict) and item.get("intent") == intent:
            lines = _lines(str(item.get("examples", "")))
            item["examples"] = lines
            return lines
    entry = CommentedMap()
    entry["intent"] = intent
    entry["examples"] = []
    data["nlu"].append(entry)
    return entry["examples"]


def _dump(data: CommentedMap) -> str:
    for item in data["nlu"]:
        if isinstance(item, dict) and isinstance(item.get("examples"), list):
            item["examples"] = LiteralScalarString("".join(f"- {text}\n" for text in item["examples"]))
    buffer = io.StringIO()
    _nlu_yaml().dump(data, buffer)
    text = buffer.getvalue()
    return text if text.startswith("#") else HEADER + text


def _lines(examples: str) -> list[str]:
    return [match.group(1) for line in examples.splitlines() if (match := _EXAMPLE_LINE.match(line))]


def _examples_in(data: CommentedMap) -> set[str]:
    return {
        _ANNOTATION.sub(r"\1", text)
        for item in data["nlu"]
        if isinstance(item, dict) and "intent" in item
        for text in _lines(str(item.get("examples", "")))
    }


def _examples_beside(annotated_file: Path) -> set[str]:
    """Examples of the other NLU files in the same folder, entity annotations removed."""
    found: set[str] = set()
    for path in sorted(annotated_file.parent.glob("*.yml")):
        if path == annotated_file:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu", []) if isinstance(data, dict) else []:
            if isinstance(item, dict) and "intent" in item:
                found |= {_ANNOTATION.sub(r"\1", text) for text in _lines(str(item.get("examples", "")))}
    return found
