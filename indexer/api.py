"""The public functions actions and the gateway call; one searcher per process."""

from __future__ import annotations

import threading

from core.settings import get_settings
from indexer.builder import make_encoder
from indexer.schema import Guide, Material
from indexer.search import Searcher, SearchFilters, SearchResult
from indexer.text import normalize

_lock = threading.Lock()
_searcher: Searcher | None = None


def get_searcher() -> Searcher:
    """Load the index on first use (not at import), then reuse it."""
    global _searcher
    with _lock:
        if _searcher is None:
            settings = get_settings()
            _searcher = Searcher(settings.index, make_encoder(settings))
        return _searcher


def search(query: str, k: int = 5, filters: SearchFilters | None = None) -> SearchResult:
    return get_searcher().search(query, k, filters)


def asks_about_policy(text: str) -> bool:
    """Whether the words ask how government services work (跑几次、容缺、代办…)."""
    return get_searcher().tokenizer.dictionary.asks_about_policy(text)


def story_of(text: str) -> str:
    """The words of a question besides the services it names and the aspects it asks for."""
    return get_searcher().tokenizer.dictionary.residue(normalize(text))


def get_guide(id_or_name: str) -> Guide | None:
    return get_searcher().guide(id_or_name)


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
