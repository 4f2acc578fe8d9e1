"""The public functions actions and the gateway call; one live searcher per process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from core.settings import get_settings
from indexer.builder import make_encoder
from indexer.bundle_plan import BundlePlan, plan_bundle
from indexer.bundle_schema import Bundle
from indexer.dictionary import DomainDictionary
from indexer.live import IndexVersion, LiveSearcher
from indexer.schema import Guide, Material
from indexer.search import Searcher, SearchFilters, SearchResult
from indexer.text import normalize

_lock = threading.Lock()
_live: LiveSearcher | None = None
_listeners: list[Callable[[Searcher], None]] = []


def _notify(searcher: Searcher) -> None:
    for listener in list(_listeners):
        listener(searcher)


def _live_searcher() -> LiveSearcher:
    """Load the index on first use (not at import), then follow newer builds."""
    global _live
    live = _live
    if live is None:
        with _lock:
            if _live is None:
                settings = get_settings()
                _live = LiveSearcher(
                    settings.index,
                    make_encoder(settings),
                    check_seconds=settings.workbench.index_check_seconds,
                    on_swap=_notify,
                )
                _live.start()
            live = _live
    return live


def get_searcher() -> Searcher:
    """The index this process serves now. Everything below asks for it per call, never keeps
    it, so an index swapped in by a newer build is used from the next call on."""
    return _live_searcher().current


def index_version() -> IndexVersion:
    return _live_searcher().version


def on_new_index(listener: Callable[[Searcher], None]) -> Callable[[], None]:
    """Call ``listener`` (on the watcher thread) after each swap; returns the way to unregister."""
    _listeners.append(listener)

    def unregister() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return unregister


def search(query: str, k: int = 5, filters: SearchFilters | None = None) -> SearchResult:
    return get_searcher().search(query, k, filters)


def asks_about_policy(text: str) -> bool:
    """Whether the words ask how government services work (跑几次、容缺、代办…)."""
    return get_searcher().tokenizer.dictionary.asks_about_policy(text)


def words_of(text: str) -> set[str]:
    """The words of ``text`` of two characters or more, as the index segments them (no stop words)."""
    return {word for word in get_searcher().tokenizer.tokenize(text) if len(word) >= 2}


def story_of(text: str) -> str:
    """The words of a question besides the services it names and the aspects it asks for."""
    return get_searcher().tokenizer.dictionary.residue(normalize(text))


def get_guide(id_or_name: str) -> Guide | None:
    return get_searcher().guide(id_or_name)


def get_bundle(id_or_name: str) -> Bundle | None:
    return get_searcher().bundle(id_or_name)


def list_bundles() -> list[Bundle]:
    return sorted(get_searcher().bundles.values(), key=lambda bundle: bundle.name)


def bundle_plan(bundle: Bundle, choices: Mapping[str, str] | None = None) -> BundlePlan:
    """The plan of a served bundle over the served guides (``BundlePlanError`` for a bad choice)."""
    searcher = get_searcher()
    return plan_bundle(bundle, searcher.guides, searcher.tokenizer.dictionary, choices=choices)


def dictionary() -> DomainDictionary:
    """The domain dictionary the served index was built with (synonyms, terms)."""
    return get_searcher().tokenizer.dictionary


def guide_materials(id_or_name: str) -> list[Material]:
    guide = get_guide(id_or_name)
    if guide is None:
        raise KeyError(f"没有这个事项：{id_or_name}")
    return list(guide.materials)


def policy_item_text(doc_id: str) -> str | None:
    """The full text of a policy item, for quoting it as the answer."""
    chunk = get_searcher().document_chunk(doc_id)
    return None if chunk is None or chunk.kind != "policy" else chunk.text


def list_guides() -> list[Guide]:
    return sorted(get_searcher().guides.values(), key=lambda guide: guide.name)
