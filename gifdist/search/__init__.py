"""Full-text search over approved, public GIFs; trending, categories, related tags.

The public API: an ``Analyzer`` turns text into terms (folding, Snowball stemming in
the configured language), a ``SearchStore`` keeps one ``SearchDocument`` per public
GIF (``MemorySearchStore`` here; SQLite FTS5 and PostgreSQL in
``gifdist.stores.search_sql``), and a ``SearchCatalog`` keeps the store current from
asset changes and answers searches, autocomplete, categories, related tags,
trending and featured lists.
"""

from gifdist.search._analyzer import MAX_QUERY_TERMS, NO_STEMMING, Analyzer, QueryTerm, languages
from gifdist.search._backfill import AssetPages, IndexBackfill, approved_pages, every_asset
from gifdist.search._catalog import MAX_QUERY_CHARS, Category, SearchCatalog
from gifdist.search._media import (
    Rendition,
    RenditionKind,
    RenditionLookup,
    media_of,
    no_renditions,
)
from gifdist.search._memory import MemorySearchStore
from gifdist.search._model import (
    DESCRIPTION_WEIGHT,
    TAG_WEIGHT,
    TITLE_WEIGHT,
    SearchDocument,
    SearchPage,
    SearchStore,
    TagCount,
    tag_key,
)
from gifdist.search._trending import (
    HALF_LIFE_HOURS,
    TRENDING_EVENTS,
    WINDOW_HOURS,
    RecentActivity,
    trending_scores,
)

__all__ = [
    "DESCRIPTION_WEIGHT",
    "HALF_LIFE_HOURS",
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "NO_STEMMING",
    "TAG_WEIGHT",
    "TITLE_WEIGHT",
    "TRENDING_EVENTS",
    "WINDOW_HOURS",
    "Analyzer",
    "AssetPages",
    "IndexBackfill",
    "Category",
    "MemorySearchStore",
    "QueryTerm",
    "RecentActivity",
    "Rendition",
    "RenditionKind",
    "RenditionLookup",
    "SearchCatalog",
    "SearchDocument",
    "SearchPage",
    "SearchStore",
    "TagCount",
    "approved_pages",
    "every_asset",
    "languages",
    "media_of",
    "no_renditions",
    "tag_key",
    "trending_scores",
]
