"""The search use cases over one store: keeping the index current and answering it."""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from gifdist.assets import AssetRecord
from gifdist.errors import InvalidInput
from gifdist.search._analyzer import Analyzer
from gifdist.search._model import SearchDocument, SearchPage, SearchStore, TagCount, tag_key
from gifdist.search._trending import (
    TRENDING_EVENTS,
    WINDOW_HOURS,
    RecentActivity,
    ranked,
    trending_scores,
)

log = logging.getLogger("gifdist.search")

MAX_QUERY_CHARS = 500
RELATED_SAMPLE = 50
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Category:
    """A much-used tag, how many public GIFs carry it, and the newest of them."""

    tag: str
    count: int
    asset_id: str


class SearchCatalog:
    """Full-text search, trending, categories and related tags over public GIFs.

    ``lookup`` reads an asset from its store (not a cache): ``refresh`` indexes it
    when it is approved and public and removes it otherwise, so every change of
    status, privacy, metadata or existence goes through the same one call.
    """

    def __init__(
        self,
        store: SearchStore,
        analyzer: Analyzer,
        *,
        lookup: Callable[[str], AssetRecord | None],
        activity: RecentActivity | None = None,
        clock: Callable[[], float] = time.time,
        cache_seconds: float = 30.0,
    ) -> None:
        self.store = store
        self.analyzer = analyzer
        self.lookup = lookup
        self.activity = activity
        self.clock = clock
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()

    # keeping the index current ---------------------------------------------------

    def document_for(self, record: AssetRecord) -> SearchDocument:
        analyze = self.analyzer.terms
        tag_text = " ".join(record.tags)
        every = dict.fromkeys(
            (*analyze(record.title), *analyze(tag_text), *analyze(record.description))
        )
        return SearchDocument(
            asset_id=record.asset_id,
            title=record.title,
            tags=record.tags,
            created_at=record.created_at,
            title_terms=analyze(record.title),
            tag_terms=analyze(tag_text),
            terms=tuple(every),
            language=self.analyzer.language,
        )

    def refresh(self, asset_id: str) -> None:
        """Index the asset if it is approved and public; drop it otherwise."""
        record = self.lookup(asset_id)
        if record is None or not record.is_public:
            self.store.remove(asset_id)
        else:
            self.store.upsert(self.document_for(record))
        self._forget_cached()

    def refresh_quietly(self, asset_id: str) -> None:
        """``refresh`` for change notifications: a failure is logged, never raised into
        the moderation or upload that caused it (``gifdist search reindex`` repairs)."""
        try:
            self.refresh(asset_id)
        except Exception:
            log.exception("search index update failed for %s", asset_id)

    def rebuild(self, records: Iterable[AssetRecord]) -> int:
        """Empty the index and add every public GIF of ``records``; returns how many."""
        self.store.clear()
        added = self.add_all(records)
        self._forget_cached()
        return added

    def add_all(self, records: Iterable[AssetRecord], batch: int = 500) -> int:
        """Index the public GIFs of ``records`` in batches; returns how many."""
        added = 0
        pending: list[SearchDocument] = []
        for record in records:
            if record.is_public:
                pending.append(self.document_for(record))
            if len(pending) >= batch:
                self.store.upsert_many(pending)
                added, pending = added + len(pending), []
        self.store.upsert_many(pending)
        return added + len(pending)

    # answering ------------------------------------------------------------------

    def search(self, q: str, *, limit: int, offset: int = 0, prefix: bool = False) -> SearchPage:
        """Public GIFs matching every word of ``q``, best first; an empty or
        word-less query matches nothing. Raises ``InvalidInput`` past 500 characters."""
        terms = self.analyzer.query(_checked_query(q), prefix=prefix)
        return self.store.search(terms, limit=limit, offset=offset)

    def autocomplete(self, q: str, *, limit: int) -> list[str]:
        """Tags completing what was typed, most used first."""
        typed = _as_typed_tag(_checked_query(q))
        return [t.tag for t in self.store.complete_tag(typed, limit=limit)] if typed else []

    def related_tags(self, q: str, *, limit: int) -> list[TagCount]:
        """Tags most common among the best matches of ``q``, other than ``q``'s own words."""
        page = self.search(q, limit=RELATED_SAMPLE)
        asked = set(self.analyzer.terms(q))
        counts: Counter[str] = Counter()
        spelling: dict[str, str] = {}
        for tags in self.store.tags_of(page.asset_ids).values():
            for tag in tags:
                if set(self.analyzer.terms(tag)) <= asked:
                    continue
                counts[tag_key(tag)] += 1
                spelling.setdefault(tag_key(tag), tag)
        best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [TagCount(spelling[key], n) for key, n in best]

    def categories(self, *, limit: int) -> list[Category]:
        """The most used tags, each with its newest GIF (cached briefly)."""
        return self._cached(f"categories:{limit}", lambda: self._categories(limit))

    def trending(self, *, limit: int, offset: int = 0) -> SearchPage:
        """Public GIFs by clicks and shares of the last 24 hours, decayed by age."""
        ids = self._trending_ids()
        return SearchPage(tuple(ids[offset : offset + limit]), len(ids))

    def featured(self, *, limit: int, offset: int = 0) -> SearchPage:
        """Trending GIFs first, then the newest public ones."""
        hot = self._trending_ids()
        if offset + limit <= len(hot):
            newest_total = self.store.newest(limit=1, offset=0).total
            return SearchPage(tuple(hot[offset : offset + limit]), max(newest_total, len(hot)))
        taken = set(hot)
        picked = hot[offset:]
        skip = max(0, offset - len(hot))
        newest = self.store.newest(limit=limit + len(hot), offset=skip)
        picked += [a for a in newest.asset_ids if a not in taken][: limit - len(picked)]
        return SearchPage(tuple(picked), newest.total)

    # helpers --------------------------------------------------------------------

    def _categories(self, limit: int) -> list[Category]:
        found = []
        for tag in self.store.top_tags(limit=limit):
            newest = self.store.newest_with_tag(tag.tag)
            if newest is not None:
                found.append(Category(tag.tag, tag.count, newest))
        return found

    def _trending_ids(self) -> list[str]:
        return self._cached("trending", self._compute_trending)

    def _compute_trending(self) -> list[str]:
        if self.activity is None:
            return []
        now_hour = int(self.clock() // 3600)
        rows = self.activity.hourly_counts(TRENDING_EVENTS, now_hour - WINDOW_HOURS + 1)
        order = ranked(trending_scores(rows, now_hour))
        public = self.store.indexed(order)
        return [a for a in order if a in public]

    def _cached(self, key: str, compute: Callable[[], _T]) -> _T:
        now = self.clock()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.cache_seconds:
            return hit[1]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._cache[key] = (now, value)
        return value

    def _forget_cached(self) -> None:
        with self._lock:
            self._cache.clear()


def _as_typed_tag(q: str) -> str:
    """What was typed, cleaned like stored tags are (NFC, no control characters)."""
    text = unicodedata.normalize("NFC", q)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(text.split())


def _checked_query(q: str) -> str:
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidInput(
            f"the query is {len(q)} characters; at most {MAX_QUERY_CHARS} are searched",
            code="query_too_long",
        )
    return q
