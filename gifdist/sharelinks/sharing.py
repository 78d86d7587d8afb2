"""Making and resolving share links for GIFs: the use case the API, pages and CLI share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gifdist.accounts.keys import ApiKey
from gifdist.assets.catalog import AssetCatalog
from gifdist.assets.model import AssetMetadata
from gifdist.caching.ttl import TTLCache
from gifdist.errors import InvalidInput, NotFound
from gifdist.observability.tracing import span
from gifdist.platforms import PLATFORM_NAMES, platform_from_via
from gifdist.sharelinks.controls import LinkControls
from gifdist.sharelinks.links import ShareLinkGenerator, is_valid_short_code


class ShareLinks:
    """Short links over assets: created by whoever may manage the GIF, cached forever
    once read (a link never changes)."""

    def __init__(
        self,
        generator: ShareLinkGenerator,
        catalog: AssetCatalog,
        clean_metadata: Any,
        *,
        check_text: Callable[[AssetMetadata], None] | None = None,
    ) -> None:
        self.generator = generator
        self.catalog = catalog
        self._clean_metadata = clean_metadata
        self._check_text = check_text
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
        controls: LinkControls | None = None,
    ) -> dict[str, Any]:
        """A new short link on a GIF its caller may manage; the API representation.

        Others get ``NotFound`` for GIFs they may not see and ``Forbidden`` otherwise.
        A title or tags given here become a public preview card at once, so they pass
        the upload text checks first (``InvalidInput`` ``text_refused`` when flagged).
        """
        controls = controls or LinkControls()
        record = self.catalog.require(asset_id)
        self.catalog.access.check_manage(owner, record, "share this GIF")
        platform = self._platform(via) if via is not None else None
        meta: AssetMetadata = self._clean_metadata(
            title if title is not None else record.title,
            tags if tags is not None else list(record.tags),
            "",
        )
        if self._check_text is not None and (title is not None or tags is not None):
            self._check_text(meta)
        created = self.generator.create_share_link(
            record.asset_id,
            meta.title,
            list(meta.tags),
            via=platform,
            created_by=owner.owner_id if owner else None,
            slug=controls.slug,
            expires_at=controls.expires_at,
            max_clicks=controls.max_clicks,
            password_hash=controls.password_hash,
        )
        link = self.generator.lookup_short_link(created["short_code"])
        assert link is not None
        return self.to_json(link)

    def forget(self, code: str) -> None:
        """Drop a link from this node's cache (it was deleted)."""
        self._cache.invalidate(code)

    def _managed(self, code: str, key: ApiKey | None) -> dict[str, Any]:
        """A link whose GIF ``key`` may manage; others' links are a plain 404."""
        link = self.get(code)
        record = self.catalog.get(link["asset_id"]) if link else None
        if link is None or record is None or not self.catalog.access.may_manage(key, record):
            raise NotFound(f"no short link {code[:64]!r}")
        return link

    def list(self, key: ApiKey | None, asset_id: str | None = None) -> list[dict[str, Any]]:
        """Links of one GIF, or every link on the caller's GIFs (admins: all), oldest first."""
        if asset_id is not None:
            record = self.catalog.require(asset_id)
            self.catalog.access.check_manage(key, record, "see this GIF's links")
            return [self.to_json(link) for link in self.generator.store.list_for_asset(asset_id)]
        owner = self.catalog.access.library_owner(key)
        if owner is None:
            links = self.generator.store.list_for_owner(None)
        else:
            mine = set(self.catalog.store.ids_for_owner(owner))
            links = [
                link
                for link in self.generator.store.list_for_owner(None)
                if link["asset_id"] in mine
            ]
        return [self.to_json(link) for link in links]

    def edit(
        self, code: str, key: ApiKey | None, *, title: Any = None, tags: Any = None, via: Any = None
    ) -> dict[str, Any]:
        """Change a link's title, tags or platform (checked as when it was made)."""
        link = self._managed(code, key)
        changes: dict[str, Any] = {}
        if via is not None:
            changes["via"] = self._platform(via)
        if title is not None or tags is not None:
            meta: AssetMetadata = self._clean_metadata(
                link["title"] if title is None else title,
                link["tags"] if tags is None else tags,
                "",
            )
            if self._check_text is not None:
                self._check_text(meta)
            changes.update(title=meta.title, tags=list(meta.tags))
        updated = self.generator.store.update(link["short_code"], changes)
        self.forget(link["short_code"])
        if updated is None:
            raise NotFound(f"no short link {code[:64]!r}")
        return self.to_json(updated)

    def delete(self, code: str, key: ApiKey | None) -> None:
        """Delete a link: it answers 410 Gone from now on. A second delete is a 404."""
        link = self._managed(code, key)
        deleted_by = key.key_id if key else "local"
        if not self.catalog.store.delete_link(link["short_code"], deleted_by):
            raise NotFound(f"no short link {code[:64]!r}")
        self.forget(link["short_code"])

    def is_gone(self, code: str) -> bool:
        return is_valid_short_code(code) and self.catalog.store.is_gone("link", code)

    @staticmethod
    def _platform(via: Any) -> str:
        found = platform_from_via(via) if isinstance(via, str) else None
        if found is None:
            raise InvalidInput(
                f"unknown platform {via!r}; use one of {', '.join(PLATFORM_NAMES)}",
                code="invalid_via",
            )
        return found.value

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
            "expires_at": link.get("expires_at"),
            "max_clicks": link.get("max_clicks"),
            "password_protected": bool(link.get("password_hash")),
        }

    def take_click(self, link: dict[str, Any]) -> bool:
        """A person followed the link: False when its click limit was reached before."""
        if link.get("max_clicks") is None:
            return True
        return self.generator.store.take_click(link["short_code"])
