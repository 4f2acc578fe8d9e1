"""The index a running process serves, replaced without a restart when a newer one is built.

A daemon thread looks at the manifest every ``check_seconds`` (a stat; the file is read only
when the stat changed), loads a newer index beside the one in use and swaps the reference. A
search that already holds the old Searcher finishes on it; the next one gets the new index. The
dense encoder (the model) is handed to every new Searcher, never loaded twice.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from core.settings import IndexSettings
from indexer.encoder import DenseEncoder
from indexer.search import IndexNotBuiltError, Searcher
from indexer.store import IndexPaths, Manifest, read_manifest

logger = logging.getLogger(__name__)

# How often a load is retried when a build swapped the index in while it was being read.
LOAD_ATTEMPTS = 3


@dataclass(frozen=True)
class IndexVersion:
    """Which build a process serves: the build's sequence number and its content hash."""

    version: int
    content: str
    built_at: str

    @classmethod
    def of(cls, manifest: Manifest) -> IndexVersion:
        return cls(manifest.version, manifest.content, manifest.built_at)


def _stamp(path: os.PathLike[str]) -> tuple[int, int, int] | None:
    """Cheap identity of the manifest file: a new build is a new directory, so a new inode."""
    try:
        stat = os.stat(path)
    except OSError:  # between the builder's two renames there is no index for a moment
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


class LiveSearcher:
    """Holds the current Searcher and follows the manifest of ``settings.index_dir``."""

    def __init__(
        self,
        settings: IndexSettings,
        encoder: DenseEncoder,
        *,
        check_seconds: float,
        on_swap: Callable[[Searcher], None] | None = None,
    ) -> None:
        if check_seconds <= 0:
            raise ValueError("check_seconds must be positive")
        self._settings = settings
        self._encoder = encoder
        self._paths = IndexPaths(settings.index_dir)
        self._check_seconds = check_seconds
        self._on_swap = on_swap
        self._seen = _stamp(self._paths.manifest)
        self._current = self._load()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._check_lock = threading.Lock()

    @property
    def current(self) -> Searcher:
        """The Searcher to use for one search; reading the reference is atomic."""
        return self._current

    @property
    def version(self) -> IndexVersion:
        return IndexVersion.of(self._current.manifest)

    def _load(self) -> Searcher:
        """A Searcher whose files all come from one build: the manifest must be the same
        before and after reading them, or the load is repeated."""
        for _ in range(LOAD_ATTEMPTS):
            searcher = Searcher(self._settings, self._encoder)
            after = read_manifest(self._paths)
            if after is not None and (after.version, after.content) == (
                searcher.manifest.version,
                searcher.manifest.content,
            ):
                return searcher
        raise IndexNotBuiltError(f"索引在加载时反复被替换：{self._settings.index_dir}，稍后重试")

    def check(self) -> bool:
        """Swap in the index on disk if it is another build than the one served; True if swapped."""
        with self._check_lock:
            stamp = _stamp(self._paths.manifest)
            if stamp is None or stamp == self._seen:
                return False
            manifest = read_manifest(self._paths)
            if manifest is None:
                return False
            served = self._current.manifest
            if (manifest.version, manifest.content) == (served.version, served.content):
                self._seen = stamp
                return False
            # Seen even if the load fails: a broken build is reported once, not every few seconds.
            self._seen = stamp
            fresh = self._load()
            fresh.warm_up()
            self._current = fresh
        logger.info(
            "index %s → %s loaded from %s", served.version, fresh.manifest.version, self._settings.index_dir
        )
        if self._on_swap is not None:
            try:
                self._on_swap(fresh)
            except Exception:  # a listener's failure must not stop the process following the index
                logger.exception("index swap listener failed")
        return True

    def start(self) -> None:
        """Follow the manifest on a daemon thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopped.clear()
        self._thread = threading.Thread(target=self._watch, name="index-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=self._check_seconds + 5)

    def _watch(self) -> None:
        while not self._stopped.wait(self._check_seconds):
            try:
                self.check()
            except Exception:  # a half-built or broken index stays unserved; the old one goes on
                logger.exception("newer index at %s could not be loaded", self._settings.index_dir)
