"""Full-text search over approved, public GIFs; trending, categories, related tags.

The public API: an ``Analyzer`` turns text into terms (folding, Snowball stemming in
the configured language), a ``SearchStore`` keeps one ``SearchDocument`` per public
GIF (``MemorySearchStore`` here; SQLite FTS5 and PostgreSQL in
``gifdist.stores.search_sql``), and a ``SearchCatalog`` keeps the store current from
asset changes and answers searches, autocomplete, categories, related tags,
trending and featured lists. ``GifApiUsage`` counts what GIF API clients do
(searches, impressions, shares) per client and platform.
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
from gifdist.search._usage import (
    MAX_REPORT_DAYS,
    Deltas,
    GifApi,
    GifApiUsage,
    MemoryUsageStore,
    UsageKey,
    UsageKind,
    UsageRow,
    UsageStore,
    client_key_of,
)

__all__ = [
    "DESCRIPTION_WEIGHT",
    "HALF_LIFE_HOURS",
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "MAX_REPORT_DAYS",
    "NO_STEMMING",
    "TAG_WEIGHT",
    "TITLE_WEIGHT",
    "TRENDING_EVENTS",
    "WINDOW_HOURS",
    "Analyzer",
    "AssetPages",
    "IndexBackfill",
    "Category",
    "Deltas",
    "GifApi",
    "GifApiUsage",
    "MemoryUsageStore",
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
    "UsageKey",
    "UsageKind",
    "UsageRow",
    "UsageStore",
    "approved_pages",
    "client_key_of",
    "every_asset",
    "languages",
    "media_of",
    "no_renditions",
    "tag_key",
    "trending_scores",
]
