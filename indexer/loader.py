"""Read and validate the guide files; one bad file never stops the others."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from indexer.schema import Guide

GUIDE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one knowledge file, worded for the maintainer who fixes it."""

    file: Path
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file.name}: {self.field}" if self.field else self.file.name
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class LoadedGuide:
    guide: Guide
    file: Path
    content_hash: str


@dataclass(frozen=True)
class GuideSet:
    guides: tuple[LoadedGuide, ...]
    problems: tuple[Problem, ...]
    skipped_files: tuple[Path, ...]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _field_path(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "(文件)"


def _parse(path: Path) -> tuple[LoadedGuide | None, list[Problem]]:
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        return None, [Problem(path, "", f"不是有效的 UTF-8 YAML：{error}")]
    if not isinstance(data, dict):
        return None, [Problem(path, "", "顶层应为键值映射")]
    try:
        guide = Guide.model_validate(data)
    except ValidationError as error:
        return None, [
            Problem(path, _field_path(detail["loc"]), f"{detail['msg']}（{detail['type']}）")
            for detail in error.errors()
        ]
    problems = []
    if guide.id != path.stem:
        problems.append(Problem(path, "id", f"应与文件名一致（{path.stem}）"))
    return (None if problems else LoadedGuide(guide, path, content_hash(raw))), problems


def _check_halls(loaded: LoadedGuide, known_halls: dict[str, dict]) -> list[Problem]:
    problems = []
    for index, hall in enumerate(loaded.guide.halls):
        reference = known_halls.get(hall.name)
        if reference is None:
            problems.append(Problem(loaded.file, f"halls.{index}.name", f"未知的大厅“{hall.name}”"))
            continue
        for key in ("address", "phone", "hours"):
            if getattr(hall, key) != reference[key]:
                problems.append(Problem(loaded.file, f"halls.{index}.{key}", "与 halls.yaml 不一致"))
    return problems


def load_halls(halls_file: Path) -> dict[str, dict]:
    """Halls by name, as listed in knowledge/halls.yaml."""
    if not halls_file.exists():
        return {}
    data = yaml.safe_load(halls_file.read_text(encoding="utf-8")) or {}
    return {hall["name"]: hall for hall in data.get("halls", [])}


def load_guides(guides_dir: Path, halls_file: Path | None = None) -> GuideSet:
    """Every valid guide under ``guides_dir``; invalid files are reported and skipped."""
    known_halls = load_halls(halls_file) if halls_file else {}
    accepted: list[LoadedGuide] = []
    problems: list[Problem] = []
    skipped: list[Path] = []
    names: dict[str, Path] = {}
    for path in sorted(p for p in guides_dir.iterdir() if p.suffix in GUIDE_SUFFIXES):
        loaded, file_problems = _parse(path)
        if loaded is not None and known_halls:
            file_problems += _check_halls(loaded, known_halls)
        if loaded is not None and loaded.guide.name in names:
            file_problems.append(
                Problem(path, "name", f"事项名称“{loaded.guide.name}”与 {names[loaded.guide.name].name} 重复")
            )
        if file_problems:
            problems += file_problems
            skipped.append(path)
            continue
        assert loaded is not None
        names[loaded.guide.name] = path
        accepted.append(loaded)
    return GuideSet(tuple(accepted), tuple(problems), tuple(skipped))
