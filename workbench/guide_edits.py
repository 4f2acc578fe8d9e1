"""Staff edits of one 办事指南 from the inbox: a new alias or a new FAQ.

The YAML file stays the source of truth (its git history is the knowledge's history), so the edit
is made on the file itself, round-trip (ruamel.yaml keeps comments, key order, quoting and folded
text), checked through the guide schema and loader exactly as the index build will check it, and
written in one rename. Other guides are read (to refuse an alias that names another service) but
never written.
"""

from __future__ import annotations

import io
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.representer import RoundTripRepresenter

from core.settings import KnowledgeSettings
from indexer.loader import load_guides
from services.errors import InvalidInput, NotFound
from services.identity import mask_text
from workbench.files import editing, write_atomically

_GUIDE_ID = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_SPACES = re.compile(r"\s+")
MAX_ALIAS_CHARS = 30
MAX_QUESTION_CHARS = 200
MAX_ANSWER_CHARS = 2000
FIELD_LABELS = {"aliases": "别名", "faqs": "常见问题", "q": "问题", "a": "答案"}


@dataclass(frozen=True)
class GuideEdit:
    guide_id: str
    guide_name: str
    field: str  # aliases | faqs
    value: str  # the alias, or the FAQ's question
    file: Path


def round_trip() -> YAML:
    """The guides' own layout: two-space mappings, list items indented under their key, long lines
    left as they are."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 100_000
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.Representer = _GuideRepresenter
    return yaml


class _GuideRepresenter(RoundTripRepresenter):
    """The guides spell a missing value ``null`` (legal_days: null); ruamel would leave it empty."""

    def represent_none(self, data: None) -> Any:
        return self.represent_scalar("tag:yaml.org,2002:null", "null")


_GuideRepresenter.add_representer(type(None), _GuideRepresenter.represent_none)


def add_alias(knowledge: KnowledgeSettings, guide_id: str, alias: str) -> GuideEdit:
    """Append ``alias`` to the guide's aliases; refused (naming the field) when it is empty, too
    long, carries personal data, is already this guide's name or alias, or names another guide."""
    alias = _one_line(alias)
    _check_text(alias, "aliases", "别名", MAX_ALIAS_CHARS)
    with editing(knowledge.guides_dir):
        path, data = _load(knowledge, guide_id)
        aliases = data.get("aliases")
        if not isinstance(aliases, CommentedSeq):
            raise InvalidInput(
                f"《{data.get('name', guide_id)}》的别名（aliases）不是列表，请先修正该文件。",
                field="aliases",
            )
        if alias == data.get("name") or alias in aliases:
            raise InvalidInput(f"“{alias}”已经是《{data.get('name')}》的名称或别名。", field="aliases")
        _refuse_other_guides_name(knowledge, guide_id, alias)
        aliases.append(alias)
        _validate_and_write(knowledge, path, data)
    return GuideEdit(guide_id, str(data.get("name")), "aliases", alias, path)


def add_faq(knowledge: KnowledgeSettings, guide_id: str, question: str, answer: str) -> GuideEdit:
    """Append a FAQ (question and answer as staff typed them) to the guide's faqs."""
    question = _one_line(question)
    answer = (answer or "").strip()
    _check_text(question, "faqs.q", "问题", MAX_QUESTION_CHARS)
    _check_text(answer, "faqs.a", "答案", MAX_ANSWER_CHARS)
    with editing(knowledge.guides_dir):
        path, data = _load(knowledge, guide_id)
        faqs = data.get("faqs")
        if not isinstance(faqs, CommentedSeq):
            raise InvalidInput(
                f"《{data.get('name', guide_id)}》的常见问题（faqs）不是列表，请先修正该文件。", field="faqs"
            )
        if any(isinstance(faq, dict) and _one_line(str(faq.get("q", ""))) == question for faq in faqs):
            raise InvalidInput(f"《{data.get('name')}》已有这个常见问题：“{question}”。", field="faqs")
        entry = CommentedMap()
        entry["q"] = question
        entry["a"] = answer
        faqs.append(entry)
        _validate_and_write(knowledge, path, data)
    return GuideEdit(guide_id, str(data.get("name")), "faqs", question, path)


def _one_line(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip()


def _check_text(text: str, field: str, label: str, max_chars: int) -> None:
    if not text:
        raise InvalidInput(f"请填写{label}。", field=field)
    if len(text) > max_chars:
        raise InvalidInput(f"{label}不能超过{max_chars}个字，当前{len(text)}个字。", field=field)
    if mask_text(text) != text:
        raise InvalidInput(f"{label}里不能有身份证号或手机号。", field=field)


def _load(knowledge: KnowledgeSettings, guide_id: str) -> tuple[Path, Any]:
    if not guide_id:
        raise InvalidInput("请选择办事指南。", field="guide_id")
    if not _GUIDE_ID.match(guide_id):
        raise InvalidInput("事项编号格式不正确。", field="guide_id")
    path = knowledge.guides_dir / f"{guide_id}.yaml"
    if not path.is_file():
        raise NotFound(f"没有这个办事指南：{guide_id}", field="guide_id")
    try:
        data = round_trip().load(path.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError) as error:
        raise InvalidInput(
            f"{path.name} 不是有效的 YAML，请先修正该文件：{error}", field="guide_id"
        ) from None
    if not isinstance(data, CommentedMap):
        raise InvalidInput(f"{path.name} 的顶层应为键值映射，请先修正该文件。", field="guide_id")
    return path, data


def _refuse_other_guides_name(knowledge: KnowledgeSettings, guide_id: str, alias: str) -> None:
    for loaded in load_guides(knowledge.guides_dir).guides:
        guide = loaded.guide
        if guide.id != guide_id and (alias == guide.name or alias in guide.aliases):
            raise InvalidInput(
                f"“{alias}”已是《{guide.name}》的名称或别名，不能再加给本事项。", field="aliases"
            )


def _validate_and_write(knowledge: KnowledgeSettings, path: Path, data: Any) -> None:
    """Check the edited text as the index build will (schema, file name, halls), then write it."""
    buffer = io.StringIO()
    round_trip().dump(data, buffer)
    text = buffer.getvalue()
    with tempfile.TemporaryDirectory(prefix="guide-check-") as scratch:
        (Path(scratch) / path.name).write_text(text, encoding="utf-8")
        checked = load_guides(Path(scratch), knowledge.halls_file)
    if checked.problems:
        problem = checked.problems[0]
        label = _field_label(problem.field)
        raise InvalidInput(
            f"修改后的《{data.get('name', path.stem)}》未通过校验，未保存：{label}：{problem.message}",
            field=problem.field or None,
        )
    write_atomically(path, text)


def _field_label(field: str) -> str:
    """``faqs.7.a`` → ``常见问题第8条的答案（faqs.7.a）``; unknown fields keep their path."""
    parts = field.split(".")
    if len(parts) == 3 and parts[0] in FIELD_LABELS and parts[1].isdigit() and parts[2] in FIELD_LABELS:
        return f"{FIELD_LABELS[parts[0]]}第{int(parts[1]) + 1}条的{FIELD_LABELS[parts[2]]}（{field}）"
    if len(parts) == 2 and parts[0] in FIELD_LABELS and parts[1].isdigit():
        return f"{FIELD_LABELS[parts[0]]}第{int(parts[1]) + 1}条（{field}）"
    return f"{FIELD_LABELS.get(field, '字段')}（{field or '文件'}）"
