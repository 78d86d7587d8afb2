"""The in-memory search store: the reference the SQL stores are tested against."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence

from gifdist.search._analyzer import QueryTerm
from gifdist.search._model import SearchDocument, SearchPage, TagCount, tag_key, term_weight


class MemorySearchStore:
    """Documents in a dict, scanned per query (fine for tests and small libraries)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._documents: dict[str, SearchDocument] = {}

    def upsert(self, document: SearchDocument) -> None:
        with self._lock:
            self._documents[document.asset_id] = document

    def upsert_many(self, documents: Sequence[SearchDocument]) -> None:
        with self._lock:
            self._documents.update((d.asset_id, d) for d in documents)

    def remove(self, asset_id: str) -> None:
        with self._lock:
            self._documents.pop(asset_id, None)

    def clear(self) -> None:
        with self._lock:
            self._documents.clear()

    def count(self) -> int:
        return len(self._documents)

    def search(self, terms: Sequence[QueryTerm], *, limit: int, offset: int) -> SearchPage:
        if not terms:
            return SearchPage((), 0)
        scored = []
        for doc in self._snapshot():
            weights = [term_weight(term, doc) for term in terms]
            if all(weights):
                scored.append((-sum(weights), -doc.key, doc.asset_id))
        scored.sort()
        return SearchPage(tuple(s[2] for s in scored[offset : offset + limit]), len(scored))

    def newest(self, *, limit: int, offset: int) -> SearchPage:
        docs = sorted(self._snapshot(), key=lambda d: -d.key)
        return SearchPage(tuple(d.asset_id for d in docs[offset : offset + limit]), len(docs))

    def indexed(self, asset_ids: Sequence[str]) -> set[str]:
        with self._lock:
            return {a for a in asset_ids if a in self._documents}

    def top_tags(self, *, limit: int) -> list[TagCount]:
        return self._tag_counts(lambda _key: True, limit)

    def complete_tag(self, prefix: str, *, limit: int) -> list[TagCount]:
        wanted = tag_key(prefix)
        if not wanted:
            return []
        return self._tag_counts(
            lambda key: key.startswith(wanted) or f" {wanted}" in f" {key}", limit
        )

    def tags_of(self, asset_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        with self._lock:
            return {a: self._documents[a].tags for a in asset_ids if a in self._documents}

    def newest_with_tag(self, tag: str) -> str | None:
        wanted = tag_key(tag)
        docs = [d for d in self._snapshot() if wanted in {tag_key(t) for t in d.tags}]
        docs.sort(key=lambda d: -d.key)
        return docs[0].asset_id if docs else None

    def _snapshot(self) -> list[SearchDocument]:
        with self._lock:
            return list(self._documents.values())

    def _tag_counts(self, keep: object, limit: int) -> list[TagCount]:
        counts: Counter[str] = Counter()
        spellings: dict[str, str] = {}
        for doc in self._snapshot():
            for tag in doc.tags:
                key = tag_key(tag)
                if keep(key):  # type: ignore[operator]
                    counts[key] += 1
                    spellings[key] = min(spellings.get(key, tag), tag)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [TagCount(spellings[key], n) for key, n in ranked]
