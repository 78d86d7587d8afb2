"""What the assets concept needs from storage: the contracts its adapters implement.

``AssetStore`` keeps contents (bytes' facts by SHA-256), owners' assets over them and
the moderation job queue; ``BlobStore`` keeps the bytes themselves. SQL
(:mod:`gifdist.stores.assets_sql`), local files and S3 (:mod:`gifdist.stores.blobs`,
:mod:`gifdist.stores.blobs_s3`) implement them; one contract suite tests each.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Protocol

from gifdist.assets.model import AssetMetadata, AssetRecord, AssetStatus
from gifdist.media.gif import GifInfo


@dataclass(frozen=True, slots=True)
class Admission:
    """A check ``AssetStore.insert`` runs inside the new asset's transaction, under a
    lock held per owner, so that racing uploads are judged one after another:
    ``check(bytes_stored, uploads_since)`` is given the owner's usage as of that moment
    (bytes of their GIFs, their GIFs made since ``since``) and raises to refuse."""

    owner_id: str
    since: datetime
    check: Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class DeletedAsset:
    """What deleting an asset removed: its links, and whether its bytes are now unused."""

    asset_id: str
    sha256: str
    short_codes: tuple[str, ...]
    content_unused: bool


@dataclass(frozen=True, slots=True)
class PendingDelete:
    """A committed delete's remaining steps: erase ``asset_id``'s analytics and, when
    ``sha256`` is set, remove those bytes (unless an upload brought them back)."""

    asset_id: str
    sha256: str | None


class DeleteJournal(Protocol):
    """Deletes whose steps after the transaction are not done yet (``delete_asset``
    writes the entry in its transaction), and which blobs the data still names."""

    def pending(self) -> builtins.list[PendingDelete]: ...

    def finish(self, asset_id: str) -> None:
        """Forget a delete whose every step is done."""
        ...

    def content_exists(self, sha256: str) -> bool:
        """True while a content row names these bytes (an upload may re-create one)."""
        ...

    def claim_removal(self, sha256: str, stale_after: float) -> bool:
        """Become the one remover of these bytes (False while another is, unless its
        claim is older than ``stale_after`` seconds: it crashed)."""
        ...

    def release_removal(self, sha256: str) -> None: ...

    def unreferenced(self, names: Sequence[str]) -> builtins.list[str]:
        """Those blob ``names`` that no content and no rendition names."""
        ...


class AssetStore(Protocol):
    """Contents and owners' assets over them (a new asset's moderation job is written
    with it, in the same transaction)."""

    def get(self, asset_id: str) -> AssetRecord | None: ...

    def get_for_owner(self, sha256: str, owner_key_id: str | None) -> AssetRecord | None:
        """The owner's own asset over these bytes (never another owner's)."""
        ...

    def is_rejected_hash(self, sha256: str) -> bool: ...

    def insert(
        self,
        *,
        candidate_ids: Sequence[str],
        sha256: str,
        size: int,
        info: GifInfo,
        meta: AssetMetadata,
        status: AssetStatus,
        owner_key_id: str | None,
        enqueue_moderation: bool,
        admission: Admission | None = None,
    ) -> tuple[AssetRecord, bool]:
        """Create the owner's asset (and the content if new); ``(record, created)``.
        ``admission`` (a quota) may refuse a new asset inside the transaction."""
        ...

    def assets_of_content(self, sha256: str) -> builtins.list[str]: ...

    def reject_content(self, sha256: str, moderation: dict[str, Any]) -> builtins.list[str]:
        """Reject every asset over these bytes; the ids that changed."""
        ...

    def visual_verdict(self, sha256: str) -> dict[str, Any] | None: ...

    def save_visual_verdict(self, sha256: str, verdict: dict[str, Any]) -> None: ...

    def set_status(
        self, asset_id: str, status: AssetStatus, moderation: dict[str, Any] | None = None
    ) -> AssetRecord | None: ...

    def set_private(self, asset_id: str, private: bool) -> AssetRecord | None: ...

    def set_metadata(self, asset_id: str, meta: AssetMetadata) -> AssetRecord | None:
        """Replace an asset's title, tags and description."""
        ...

    def list(
        self,
        *,
        owner_key_id: str | None = None,
        status: AssetStatus | None = None,
        search: str | None = None,
        private: bool | None = None,
        tag: str | None = None,
        oldest_first: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> builtins.list[AssetRecord]: ...

    def ids_for_owner(self, owner_key_id: str) -> builtins.list[str]: ...

    def count(self) -> int: ...

    def delete_asset(self, asset_id: str, deleted_by: str | None) -> DeletedAsset | None:
        """Remove an asset with its links, jobs and reports, leaving tombstones."""
        ...

    def delete_link(self, short_code: str, deleted_by: str | None) -> bool: ...

    def is_gone(self, kind: str, key: str) -> bool:
        """True when the asset (``kind="asset"``) or link (``"link"``) was deleted."""
        ...


class BlobStore(Protocol):
    """Content-addressed bytes; an S3 implementation stands in for the local one."""

    def temp_file(self) -> tuple[IO[bytes], str]:
        """A writable temporary file on the store's filesystem and its path."""
        ...

    def put_temp(self, temp_path: str, sha256: str, *, content_type: str = "image/gif") -> bool:
        """Move a finished temp file into place under ``sha256``; False if it existed."""
        ...

    def copy_to(self, sha256: str, path: str) -> bool:
        """Write the blob's bytes to the local file ``path``; False if it is not stored."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def size(self, sha256: str) -> int | None:
        """The blob's length in bytes, or None if it is not stored."""
        ...

    def local_path(self, sha256: str) -> str | None:
        """A path on this machine holding the bytes, or None (not stored, or remote)."""
        ...

    def iter_range(
        self, sha256: str, start: int, end: int, chunk_size: int = 256 * 1024
    ) -> Iterator[bytes]:
        """Bytes ``start``..``end`` (inclusive), in chunks."""
        ...

    def presigned_url(self, sha256: str, expires_in: int = 3600) -> str | None:
        """A time-limited direct URL to the bytes, where the store can give one."""
        ...

    def quarantine(self, sha256: str) -> None:
        """Move the blob out of the public store (kept for appeal or evidence)."""
        ...

    def restore(self, sha256: str) -> bool:
        """Move a quarantined blob back (an appeal succeeded); False if it is not held."""
        ...

    def purge_quarantined(self, older_than: float) -> int:
        """Delete blobs quarantined more than ``older_than`` seconds ago; how many."""
        ...

    def check(self) -> None:
        """Raise OSError if the store cannot be written."""
        ...

    def delete(self, sha256: str) -> bool:
        """Remove the bytes (no asset uses them any more); False if they were not stored."""
        ...

    def remove_stale_temporaries(self, older_than: float = 3600.0) -> int: ...

    def discard_quarantined(self, sha256: str) -> bool:
        """Remove a quarantined copy for good; False if none was held."""
        ...

    def names(self, older_than: float) -> Iterator[str]:
        """Every stored blob's name (quarantine excluded) written more than
        ``older_than`` seconds ago (for the sweep of blobs a crash left behind)."""
        ...
