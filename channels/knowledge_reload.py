"""Keep the services catalog in step with the index this gateway serves.

When a newer index is swapped in, the catalog is synced from the guides it serves: a removed
guide's service stops taking bookings, a guide that no longer names a hall stops being booked
there, and an invalid guide's last good version is still in the index, so its service stays
offered. Syncing is idempotent, so several gateways doing it at once agree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from indexer.api import on_new_index
from indexer.search import Searcher
from services.catalog import catalog_of, load_halls
from services.facade import Services

logger = logging.getLogger(__name__)


def follow_index(services: Services, halls_file: Path) -> Callable[[], None]:
    """Sync the catalog after every index swap; returns the way to stop."""

    def resync(searcher: Searcher) -> None:
        catalog = catalog_of(load_halls(halls_file), searcher.guides.values())
        services.sync_catalog(catalog)
        logger.info("catalog synced with index version %s", searcher.manifest.version)

    return on_new_index(resync)
