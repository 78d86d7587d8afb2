"""Filling the index from the assets: ``gifdist search reindex`` and first start-up."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from gifdist.assets import AssetRecord, AssetStatus
from gifdist.search._catalog import SearchCatalog

log = logging.getLogger("gifdist.search")

AssetPages = Callable[[int, int], Sequence[AssetRecord]]
"""``(limit, offset)`` → one page of approved assets, oldest first."""


class ListsAssets(Protocol):
    def list(
        self,
        *,
        status: AssetStatus | None = None,
        oldest_first: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[AssetRecord]: ...


def approved_pages(store: ListsAssets) -> AssetPages:
    """Pages of ``store``'s approved assets, oldest first (what the index may hold)."""

    def page(limit: int, offset: int) -> Sequence[AssetRecord]:
        return store.list(
            status=AssetStatus.APPROVED, oldest_first=True, limit=limit, offset=offset
        )

    return page


def every_asset(pages: AssetPages, page_size: int = 500) -> Iterator[AssetRecord]:
    offset = 0
    while batch := pages(page_size, offset):
        yield from batch
        offset += len(batch)


class IndexBackfill:
    """On start, indexes every public GIF when the index is empty but GIFs exist (a
    deployment upgraded to a version with search); a background thread, run once."""

    def __init__(self, catalog: SearchCatalog, pages: AssetPages) -> None:
        self.catalog = catalog
        self.pages = pages
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.run, name="gifdist-search-backfill", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run(self) -> int:
        """Index what is missing; returns how many GIFs were added (0: nothing to do)."""
        try:
            if self.catalog.store.count() > 0 or not self.pages(1, 0):
                return 0
            added = self.catalog.add_all(every_asset(self.pages))
        except Exception:
            log.exception("search backfill failed; run `gifdist search reindex`")
            return 0
        log.info("search index filled with %d GIFs", added)
        return added
