"""Making and resolving share links for GIFs: the use case the API, pages and CLI share."""

from __future__ import annotations

from typing import Any

from gifdist.accounts.keys import ApiKey
from gifdist.assets.catalog import AssetCatalog
from gifdist.assets.model import AssetMetadata
from gifdist.caching.ttl import TTLCache
from gifdist.errors import InvalidInput
from gifdist.observability.tracing import span
from gifdist.platforms import PLATFORM_NAMES, platform_from_via
from gifdist.sharelinks.links import ShareLinkGenerator, is_valid_short_code


class ShareLinks:
    """Short links over assets: created by whoever may manage the GIF, cached forever
    once read (a link never changes)."""

    def __init__(
        self,
        generator: ShareLinkGenerator,
        catalog: AssetCatalog,
        clean_metadata: Any,
    ) -> None:
        self.generator = generator
        self.catalog = catalog
        self._clean_metadata = clean_metadata
        self._cache: TTLCache[str, dict[str, Any]] = TTLCache(100_000, ttl=None)

    def cached(self, code: str) -> dict[str, Any] | None:
        """From memory only (the event loop's fast path); None on a miss."""
        return self._cache.get(code)

    def get(self, code: str) -> dict[str, Any] | None:
        """The link record, or None; malformed codes are never looked up."""
        if not is_valid_short_code(code):
            return None
        link = self._cache.get(code)
        if link is None:
            with span("db.get_link", short_code=code):
                link = self.generator.lookup_short_link(code)
            if link is not None:
                self._cache.set(code, link)
        return link

    def create(
        self,
        asset_id: str,
        *,
        title: Any = None,
        tags: Any = None,
        via: Any = None,
        owner: ApiKey | None = None,
    ) -> dict[str, Any]:
        """A new short link on a GIF its caller may manage; the API representation."""
        record = self.catalog.require(asset_id)
        self.catalog.access.check_manage(owner, record, "share this GIF")
        platform = None
        if via is not None:
            found = platform_from_via(via) if isinstance(via, str) else None
            if found is None:
                raise InvalidInput(
                    f"unknown platform {via!r}; use one of {', '.join(PLATFORM_NAMES)}",
                    code="invalid_via",
                )
            platform = found.value
        meta: AssetMetadata = self._clean_metadata(
            title if title is not None else record.title,
            tags if tags is not None else list(record.tags),
            "",
        )
        created = self.generator.create_share_link(
            record.asset_id,
            meta.title,
            list(meta.tags),
            via=platform,
            created_by=owner.key_id if owner else None,
        )
        link = self.generator.lookup_short_link(created["short_code"])
        assert link is not None
        return self.to_json(link)

    def to_json(self, link: dict[str, Any]) -> dict[str, Any]:
        code = link["short_code"]
        return {
            "short_code": code,
            "short_url": self.generator.create_short_url(code),
            "canonical_url": link["canonical_url"],
            "asset_id": link["asset_id"],
            "title": link["title"],
            "tags": link["tags"],
            "via": link["via"],
            "created_at": link["created_at"],
        }
