"""Changing and deleting one's GIFs: the use case the API, the pages and the CLI share.

Deleting means gone: the asset, its links, jobs, reports and analytics are removed,
its URLs answer 410 Gone (tombstones keep ids, hash, who and when, nothing personal),
every node's caches drop it, and the bytes leave the blob store once no other
owner's asset uses them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from gifdist.accounts.keys import ApiKey
from gifdist.assets.catalog import AssetCatalog
from gifdist.assets.crashpoints import crash_point
from gifdist.assets.model import AssetMetadata, AssetRecord
from gifdist.assets.store import AssetStore, PendingDelete
from gifdist.errors import InvalidInput, NotFound

log = logging.getLogger("gifdist.assets")

CleanMetadata = Callable[[Any, Any, Any], AssetMetadata]
TextCheck = Callable[[AssetMetadata], None]


class AssetEditor:
    """Edits text and privacy; deletes.

    ``check_text`` refuses text the moderation term lists flag (as at upload);
    after a delete's transaction ``forget_link`` drops each link from the caches and
    ``finish_delete`` does the rest (analytics, bytes: :mod:`gifdist.assets.deletion`).
    """

    def __init__(
        self,
        catalog: AssetCatalog,
        clean_metadata: CleanMetadata,
        *,
        check_text: TextCheck,
        forget_link: Callable[[str], None],
        finish_delete: Callable[[PendingDelete], None],
    ) -> None:
        self.catalog = catalog
        self.store: AssetStore = catalog.store
        self._clean = clean_metadata
        self._check_text = check_text
        self._forget_link = forget_link
        self._finish_delete = finish_delete

    def _owned(self, asset_id: str, key: ApiKey | None, action: str) -> AssetRecord:
        record = self.catalog.get(asset_id)
        if record is None:
            raise NotFound(f"no asset with id {asset_id[:64]!r}")
        self.catalog.access.check_manage(key, record, action)
        return record

    def edit(
        self,
        asset_id: str,
        key: ApiKey | None,
        *,
        title: Any = None,
        tags: Any = None,
        description: Any = None,
        private: Any = None,
    ) -> AssetRecord:
        """Change any of title, tags, description and privacy (None leaves a field)."""
        record = self._owned(asset_id, key, "change this GIF")
        if private is not None and not isinstance(private, bool):
            raise InvalidInput("private must be true or false", code="bad_private")
        if (title, tags, description) != (None, None, None):
            meta = self._clean(
                record.title if title is None else title,
                list(record.tags) if tags is None else tags,
                record.description if description is None else description,
            )
            self._check_text(meta)
            self.store.set_metadata(record.asset_id, meta)
        if private is not None:
            self.store.set_private(record.asset_id, private)
        self.catalog.changed(record.asset_id)
        return self.catalog.require(record.asset_id)

    def delete(self, asset_id: str, key: ApiKey | None) -> None:
        """Delete a GIF for good; a second delete is a 404."""
        record = self._owned(asset_id, key, "delete this GIF")
        deleted = self.store.delete_asset(record.asset_id, key.key_id if key else "local")
        if deleted is None:
            raise NotFound(f"no asset with id {asset_id[:64]!r}")
        crash_point("delete.committed")
        self.catalog.changed(record.asset_id)
        for code in deleted.short_codes:
            self._forget_link(code)
        sha256 = deleted.sha256 if deleted.content_unused else None
        self._finish_delete(PendingDelete(record.asset_id, sha256))
        log.info(
            "deleted asset %s (%d links; bytes %s)",
            record.asset_id,
            len(deleted.short_codes),
            "removed" if deleted.content_unused else "kept: another asset uses them",
        )
