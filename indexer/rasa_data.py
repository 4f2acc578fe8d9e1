"""NLU data generated from the guides for Rasa: the service lookup table and synonyms, and the
一件事 bundles' names as questions about what an event takes.

Every way the guides and the synonym table name a service (name, aliases, name cores,
colloquial synonyms) maps to the canonical 事项名称 through Rasa's EntitySynonymMapper,
so a new guide dropped into knowledge/ is understood after `make run` retrains.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from indexer.bundle_schema import Bundle
from indexer.dictionary import DomainDictionary
from indexer.schema import Guide

RASA_DATA_NAME = "services_nlu.yml"


def service_names(guide: Guide, dictionary: DomainDictionary) -> list[str]:
    """Every term that names only this guide."""
    return sorted(
        term for term, ids in dictionary.guide_links.items() if ids == (guide.id,) and term != guide.name
    )


# How residents ask what a life event takes; each bundle's name and aliases fill the blank.
EVENT_QUESTIONS = ("{}", "{}要办哪些", "{}要办些啥子", "{}咋个办")


def write_rasa_service_data(
    guides: list[Guide], dictionary: DomainDictionary, directory: Path, bundles: list[Bundle] | None = None
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    lookup = sorted(
        {guide.name for guide in guides} | {n for g in guides for n in service_names(g, dictionary)}
    )
    nlu: list[dict] = [{"lookup": "service", "examples": _examples(lookup)}]
    for guide in sorted(guides, key=lambda g: g.name):
        names = service_names(guide, dictionary)
        if names:
            nlu.append({"synonym": guide.name, "examples": _examples(names)})
    # Not an alias that also names a service (上小学): its examples would teach it is no entity.
    event_names = {
        name for b in bundles or [] for name in (b.name, *b.aliases) if name not in dictionary.guide_links
    }
    events = sorted({question.format(name) for name in event_names for question in EVENT_QUESTIONS})
    if events:
        nlu.append({"intent": "ask_process", "examples": _examples(events)})
    path = directory / RASA_DATA_NAME
    header = "# 由 python -m indexer build 根据办事指南生成，请勿手改\n"
    body = yaml.dump(
        {"version": "3.1", "nlu": nlu}, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False, width=1000
    )
    path.write_text(header + body, encoding="utf-8")
    return path


class _BlockDumper(yaml.SafeDumper):
    """Writes example lists as ``examples: |`` blocks, the way Rasa's own files look."""


_BlockDumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    ),
)


def _examples(terms: list[str]) -> str:
    return "".join(f"- {term}\n" for term in terms)
