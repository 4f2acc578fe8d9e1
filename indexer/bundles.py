"""Read and validate the bundle files under knowledge/bundles/; one bad file never stops the others.

Problems are reported like the guides' (``indexer.loader.Problem``: file, field, message), in
Chinese, and a bundle naming a guide that does not exist or did not load is skipped.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from indexer.bundle_schema import GRAPH_CHECKED_BY_CALLER, Bundle, step_problems
from indexer.loader import GUIDE_SUFFIXES, Problem, content_hash


@dataclass(frozen=True)
class LoadedBundle:
    bundle: Bundle
    file: Path
    content_hash: str


@dataclass(frozen=True)
class BundleSet:
    bundles: tuple[LoadedBundle, ...]
    problems: tuple[Problem, ...]
    skipped_files: tuple[Path, ...]

    def get(self, bundle_id: str) -> Bundle | None:
        return next((b.bundle for b in self.bundles if b.bundle.id == bundle_id), None)


# pydantic's messages are English; maintainers read Chinese.
_MESSAGES: dict[str, str] = {
    "missing": "缺少必填字段",
    "extra_forbidden": "未知字段（拼写错了？）",
    "string_pattern_mismatch": "只能用小写字母、数字和下划线",
    "string_too_short": "不能为空",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "bool_type": "应为 true 或 false",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
}


def _message(detail: ErrorDetails) -> str:
    kind = detail["type"]
    if kind == "value_error":
        return str(detail["ctx"]["error"]) if "ctx" in detail else detail["msg"]
    if kind == "too_short":
        return f"至少需要 {detail.get('ctx', {}).get('min_length', 1)} 项"
    return _MESSAGES.get(kind, f"{detail['msg']}（{kind}）")


def _field_path(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "(文件)"


def _parse(
    path: Path, guide_ids: Collection[str], situations: Mapping[str, Collection[str]] | None
) -> tuple[LoadedBundle | None, list[Problem]]:
    raw = path.read_bytes()
    try:
        data: Any = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        return None, [Problem(path, "", f"不是有效的 UTF-8 YAML：{error}")]
    if not isinstance(data, dict):
        return None, [Problem(path, "", "顶层应为键值映射")]
    try:
        bundle = Bundle.model_validate(data, context={GRAPH_CHECKED_BY_CALLER: True})
    except ValidationError as error:
        return None, [Problem(path, _field_path(d["loc"]), _message(d)) for d in error.errors()]
    problems = [Problem(path, field, message) for field, message in step_problems(bundle)]
    problems += [
        Problem(path, f"steps.{index}.guide", f"未知的办事指南“{step.guide}”（或该指南未通过校验）")
        for index, step in enumerate(bundle.steps)
        if step.guide not in guide_ids
    ]
    problems += [
        Problem(path, f"steps.{index}.situation", f"办事指南“{step.guide}”没有情形“{step.situation}”")
        for index, step in enumerate(bundle.steps)
        if step.situation and situations is not None and step.situation not in situations.get(step.guide, ())
    ]
    if bundle.id != path.stem:
        problems.append(Problem(path, "id", f"应与文件名一致（{path.stem}）"))
    return (None if problems else LoadedBundle(bundle, path, content_hash(raw))), problems


def load_bundles(
    bundles_dir: Path, guide_ids: Collection[str], situations: Mapping[str, Collection[str]] | None = None
) -> BundleSet:
    """Every valid bundle under ``bundles_dir`` whose member guides are all in ``guide_ids`` (and
    whose steps' situations are among their guides' ``situations`` ids, when given); invalid files
    are reported and skipped. A missing folder is an empty set."""
    if not bundles_dir.is_dir():
        return BundleSet((), (), ())
    accepted: list[LoadedBundle] = []
    problems: list[Problem] = []
    skipped: list[Path] = []
    names: dict[str, Path] = {}
    for path in sorted(p for p in bundles_dir.iterdir() if p.suffix in GUIDE_SUFFIXES):
        loaded, file_problems = _parse(path, guide_ids, situations)
        if loaded is not None and loaded.bundle.name in names:
            other = names[loaded.bundle.name].name
            file_problems.append(Problem(path, "name", f"名称“{loaded.bundle.name}”与 {other} 重复"))
        if file_problems:
            problems += file_problems
            skipped.append(path)
            continue
        assert loaded is not None
        names[loaded.bundle.name] = path
        accepted.append(loaded)
    return BundleSet(tuple(accepted), tuple(problems), tuple(skipped))
