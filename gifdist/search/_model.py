"""What the search stores keep and answer, and the protocol every store implements."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gifdist.search._analyzer import QueryTerm

TITLE_WEIGHT = 4
TAG_WEIGHT = 2
DESCRIPTION_WEIGHT = 1


@dataclass(frozen=True, slots=True)
class SearchDocument:
    """One public GIF as the index sees it: its analysed text and its tags."""

    asset_id: str
    title: str
    tags: tuple[str, ...]
    created_at: datetime
    title_terms: tuple[str, ...]
    tag_terms: tuple[str, ...]
    terms: tuple[str, ...]  # title, tags and description together
    language: str

    @property
    def key(self) -> int:
        """The document's place in "newest first" order: the upload time in
        microseconds, times 1,000, plus three digits from the asset id. Stable across
        re-indexing, so SQLite can walk its FTS5 index newest first and stop early."""
        return document_key(self.created_at, self.asset_id)


def document_key(created_at: datetime, asset_id: str) -> int:
    micros = int(created_at.timestamp() * 1_000_000)
    return micros * 1000 + int(hashlib.sha256(asset_id.encode()).hexdigest()[:8], 16) % 1000


@dataclass(frozen=True, slots=True)
class SearchPage:
    """Asset ids of one page of results, best first, and how many match in all."""

    asset_ids: tuple[str, ...]
    total: int


@dataclass(frozen=True, slots=True)
class TagCount:
    """A tag (as most often written) and how many public GIFs carry it."""

    tag: str
    count: int


class SearchStore(Protocol):
    """Keeps the documents of public GIFs and answers queries over them.

    Ranking is the same in every store: each query term scores the weight of the
    best field it appears in (title 4, tags 2, description 1); ties go to the
    newest GIF (the larger ``SearchDocument.key``). Every term must match.
    """

    def upsert(self, document: SearchDocument) -> None: ...
    def upsert_many(self, documents: Sequence[SearchDocument]) -> None: ...
    def remove(self, asset_id: str) -> None: ...
    def clear(self) -> None: ...
    def count(self) -> int: ...
    def search(self, terms: Sequence[QueryTerm], *, limit: int, offset: int) -> SearchPage: ...
    def newest(self, *, limit: int, offset: int) -> SearchPage: ...
    def indexed(self, asset_ids: Sequence[str]) -> set[str]: ...
    def top_tags(self, *, limit: int) -> list[TagCount]: ...
    def complete_tag(self, prefix: str, *, limit: int) -> list[TagCount]: ...
    def tags_of(self, asset_ids: Sequence[str]) -> dict[str, tuple[str, ...]]: ...
    def newest_with_tag(self, tag: str) -> str | None: ...


def term_weight(term: QueryTerm, document: SearchDocument) -> int:
    """What ``term`` scores in ``document`` (0 when it does not match at all)."""
    if matches(term, document.title_terms):
        return TITLE_WEIGHT
    if matches(term, document.tag_terms):
        return TAG_WEIGHT
    return DESCRIPTION_WEIGHT if matches(term, document.terms) else 0


def matches(term: QueryTerm, terms: Sequence[str]) -> bool:
    if term.stem in terms:
        return True
    return term.prefix and any(t.startswith(term.word) for t in terms)


def tag_key(tag: str) -> str:
    """Tags compare case-insensitively."""
    return tag.casefold()
