"""One owner's data, whole: handed back as a zip, or erased (what a GDPR request asks).

Export writes every GIF's bytes, its metadata, its links and its all-time numbers;
erase deletes every GIF the owner has (as a delete from the API does: links, numbers
and unused bytes go, tombstones stay) and every link they made on other GIFs.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gifdist.assets.editing import AssetEditor
from gifdist.assets.library import MetricsFor
from gifdist.assets.model import AssetRecord
from gifdist.assets.store import AssetStore, BlobStore
from gifdist.sharelinks.links import ShareLinkStore
from gifdist.sharelinks.sharing import ShareLinks

Progress = Callable[[str], None]  # called once per item done, with its id


@dataclass(frozen=True, slots=True)
class ErasedOwner:
    assets: int
    links: int


class OwnerData:
    def __init__(
        self,
        store: AssetStore,
        blobs: BlobStore,
        links: ShareLinkStore,
        sharing: ShareLinks,
        editor: AssetEditor,
        metrics_for: MetricsFor,
        base_url: str,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.links = links
        self.sharing = sharing
        self.editor = editor
        self.metrics_for = metrics_for
        self.base_url = base_url

    def assets_of(self, owner_key_id: str) -> list[AssetRecord]:
        ids = self.store.ids_for_owner(owner_key_id)
        return [r for r in (self.store.get(i) for i in ids) if r is not None]

    def item_count(self, owner_key_id: str) -> int:
        """How many GIFs and links ``erase`` goes through (for a progress bar)."""
        return len(self.store.ids_for_owner(owner_key_id)) + len(
            self.links.list_for_owner(owner_key_id)
        )

    def export(self, owner_key_id: str, target: Path, progress: Progress) -> int:
        """Write ``target`` (a zip): ``gifdist-export.json`` plus ``gifs/<id>.gif``.

        Written to a temporary name first, so a failed export leaves no half file.
        """
        records = self.assets_of(owner_key_id)
        metrics = self.metrics_for([r.asset_id for r in records])
        partial = target.with_name(target.name + ".part")
        items: list[dict[str, Any]] = []
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
            for record in records:
                path = self.blobs.local_path(record.sha256)
                if path is not None:
                    archive.write(path, f"gifs/{record.asset_id}.gif")
                items.append(
                    {
                        **record.to_json(self.base_url),
                        "stats": metrics[record.asset_id],
                        "links": [
                            self.sharing.to_json(link)
                            for link in self.links.list_for_asset(record.asset_id)
                        ],
                        "file": f"gifs/{record.asset_id}.gif" if path else None,
                    }
                )
                progress(record.asset_id)
            manifest = {
                "owner": owner_key_id,
                "exported_at": datetime.now(UTC).isoformat(),
                "assets": items,
            }
            archive.writestr("gifdist-export.json", json.dumps(manifest, indent=2))
        partial.replace(target)
        return len(items)

    def erase(self, owner_key_id: str, progress: Progress) -> ErasedOwner:
        """Delete everything the owner has; safe to run again after an interruption."""
        assets = 0
        for record in self.assets_of(owner_key_id):
            self.editor.delete(record.asset_id, None)
            assets += 1
            progress(record.asset_id)
        links = 0
        for link in self.links.list_for_owner(owner_key_id):
            self.sharing.delete(link["short_code"], None)
            links += 1
            progress(link["short_code"])
        return ErasedOwner(assets, links)
