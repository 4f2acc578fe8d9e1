"""Builders for the workbench tests: analytics turns written straight into the table (as the
ingester would), a writable copy of part of the knowledge, and settings that keep every generated
file (index, jieba dictionary, Rasa data, annotated NLU file) under the test's own folder."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from core.settings import (
    PROJECT_ROOT,
    IndexSettings,
    KnowledgeSettings,
    Settings,
    WorkbenchSettings,
)
from services.facade import Services
from services.log_privacy import pseudonym
from services.models import AnalyticsTurn, TurnKind

KNOWLEDGE = PROJECT_ROOT / "knowledge"
SMALL_SET = ("gaoling_butie", "zuidi_shenghuo_baozhang_shenqing", "juzhuzheng_shenling", "jiehun_dengji")


def add_turn(
    services: Services,
    turn_id: str,
    text: str,
    *,
    kind: TurnKind = TurnKind.fallback,
    at: dt.datetime = dt.datetime(2026, 11, 20, 10, 0),
    confidence: float | None = None,
    channel: str = "web",
    guide_id: str | None = None,
) -> None:
    with services.unit() as (session, ctx):
        session.add(
            AnalyticsTurn(
                turn_id=turn_id,
                # The resident web:<turn id>, as the ingester names them: they may rate it.
                sender=pseudonym(f"web:{turn_id}", secret=ctx.settings.secret_key),
                channel=channel,
                at=at,
                text=text,
                intent="nlu_fallback" if kind is TurnKind.fallback else "ask_materials",
                confidence=confidence,
                entities=[],
                guide_id=guide_id,
                kind=kind,
            )
        )


def copy_knowledge(root: Path, guides: tuple[str, ...] = SMALL_SET) -> KnowledgeSettings:
    (root / "guides").mkdir(parents=True)
    for guide_id in guides:
        shutil.copy(KNOWLEDGE / "guides" / f"{guide_id}.yaml", root / "guides")
    shutil.copytree(KNOWLEDGE / "dictionary", root / "dictionary")
    shutil.copytree(KNOWLEDGE / "policies", root / "policies")
    shutil.copy(KNOWLEDGE / "halls.yaml", root / "halls.yaml")
    return KnowledgeSettings(
        guides_dir=root / "guides",
        policies_dir=root / "policies",
        dictionary_dir=root / "dictionary",
        halls_file=root / "halls.yaml",
        holidays_dir=root / "holidays",
        bundles_dir=root / "bundles",  # none: the real bundles need guides this small set lacks
    )


def settings_in(root: Path, knowledge: KnowledgeSettings, **values: object) -> Settings:
    """Settings whose generated files all live under ``root`` (never the project's var/ or bot/)."""
    return Settings(
        knowledge=knowledge,
        index=IndexSettings(
            index_dir=root / "index", jieba_dict_dir=root / "jieba", rasa_data_dir=root / "rasa"
        ),
        workbench=WorkbenchSettings(annotated_nlu_file=root / "nlu" / "annotated.yml"),
        **values,  # type: ignore[arg-type]
    )
