"""Uploads: from received bytes to the uploader's asset over stored, checked content."""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gifdist.accounts.keys import ApiKey
from gifdist.assets.crashpoints import crash_point
from gifdist.assets.model import (
    AssetMetadata,
    AssetRecord,
    AssetStatus,
    MetadataLimits,
    clean_metadata,
)
from gifdist.assets.store import Admission, AssetStore, BlobStore
from gifdist.assets.uploads import UploadSink
from gifdist.errors import GifdistError, InvalidMedia, ServiceUnavailable
from gifdist.media.gif import DecodeSlots, GifLimits, inspect_gif
from gifdist.observability.metrics import UploadOutcome, record_upload
from gifdist.observability.tracing import span


@dataclass(frozen=True, slots=True)
class UploadResult:
    asset: AssetRecord
    created: bool


@dataclass(frozen=True, slots=True)
class UploadRules:
    """Limits and modes an upload is checked against (from ``Settings``)."""

    max_upload_bytes: int
    gif_limits: GifLimits
    metadata_limits: MetadataLimits
    moderated: bool
    asset_id_length: int


class Uploads:
    """Checks, stores and registers uploads; hands new assets to moderation.

    ``moderate_now`` (sync moderation) scans a new asset inside the request;
    ``on_queued`` wakes the moderation worker (async moderation); ``on_approved``
    hears of each content approved at upload (moderation off), as the moderation
    runner's hooks do otherwise; ``on_created`` hears of every new asset (the search
    index adds it once it is public).
    """

    def __init__(
        self,
        store: AssetStore,
        blobs: BlobStore,
        rules: UploadRules,
        *,
        id_key: bytes,
        moderate_now: Callable[[str], AssetRecord | None] | None = None,
        on_queued: Callable[[], None] | None = None,
        on_approved: list[Callable[[str], None]] | None = None,
        decode_slots: DecodeSlots | None = None,
        on_created: Callable[[str], None] | None = None,
        admit: Callable[[ApiKey, int], Admission | None] | None = None,
    ) -> None:
        self.store = store
        self._admit = admit  # quotas: raises when over now; the admission holds at insert
        self.decode_slots = decode_slots
        self.blobs = blobs
        self.rules = rules
        self._id_key = id_key
        self._moderate_now = moderate_now
        self._on_queued = on_queued
        self.on_approved = on_approved if on_approved is not None else []
        self._on_created = on_created

    def new_sink(self) -> UploadSink:
        """A temp file in the blob store to stream one upload into."""
        handle, path = self.blobs.temp_file()
        return UploadSink(handle, path, self.rules.max_upload_bytes)

    def clean_metadata(self, title: Any, tags: Any, description: Any) -> AssetMetadata:
        return clean_metadata(title, tags, description, self.rules.metadata_limits)

    def ingest(self, sink: UploadSink, meta: AssetMetadata, owner: ApiKey | None) -> UploadResult:
        """Validate, dedupe, store and queue moderation for a finished upload.

        The temp file is consumed (moved into the store or deleted) whatever happens.
        Raises ``InvalidMedia``/``UnsupportedMediaType`` for bad GIFs and
        ``InvalidMedia(code="content_rejected")`` for bytes moderation refused before.
        """
        try:
            with span("upload.ingest", size=sink.size):
                result = self._ingest(sink, meta, owner)
        except GifdistError:
            record_upload(UploadOutcome.REJECTED)
            raise
        record_upload(UploadOutcome.CREATED if result.created else UploadOutcome.DUPLICATE)
        return result

    def ingest_file(
        self, path: str | os.PathLike[str], meta: AssetMetadata, owner: ApiKey | None
    ) -> UploadResult:
        """Upload a local file (the CLI's path): copy it into the store, then ingest."""
        sink = self.new_sink()
        try:
            with open(path, "rb") as handle:
                while block := handle.read(1024 * 1024):
                    sink.write(block)
        except BaseException:
            sink.discard()
            raise
        return self.ingest(sink, meta, owner)

    def _ingest(self, sink: UploadSink, meta: AssetMetadata, owner: ApiKey | None) -> UploadResult:
        owner_id = owner.owner_id if owner else None
        try:
            sha256 = sink.finish()
            if sink.size == 0:
                raise InvalidMedia("the uploaded file is empty", code="empty_file")
            if self.store.is_rejected_hash(sha256):
                raise InvalidMedia(
                    "this file was rejected by moderation and cannot be uploaded again",
                    code="content_rejected",
                )
            existing = self.store.get_for_owner(sha256, owner_id)
            if existing is not None:
                return UploadResult(existing, created=False)
            # refused now if over a quota already (before the bytes are stored), and
            # judged again inside the insert, under the owner's lock, against racers
            admission = self._admit(owner, sink.size) if owner and self._admit else None
            with span("upload.inspect_gif"):
                info = inspect_gif(sink.path, self.rules.gif_limits, slots=self.decode_slots)
            with span("storage.put", sha256=sha256):
                if not self.blobs.exists(sha256):  # the store takes a second name of the file:
                    self.blobs.put_temp(_second_name(sink.path), sha256)  # ours stays till the row
            crash_point("upload.bytes_stored")
            moderated = self.rules.moderated
            record, created = self.store.insert(
                candidate_ids=self._candidate_ids(sha256, owner_id),
                sha256=sha256,
                size=sink.size,
                info=info,
                meta=meta,
                status=AssetStatus.PENDING if moderated else AssetStatus.APPROVED,
                owner_key_id=owner_id,
                enqueue_moderation=moderated,
                admission=admission,
            )
            self._keep_bytes(sink, sha256)
        finally:
            sink.discard()
        if created and self._on_created is not None:
            self._on_created(record.asset_id)
        if created and self._moderate_now is not None:
            record = self._moderate_now(record.asset_id) or record
        elif created and self._on_queued is not None:
            self._on_queued()
        if created and record.status is AssetStatus.APPROVED and self._moderate_now is None:
            for hook in self.on_approved:
                hook(record.sha256)
        return UploadResult(record, created)

    def _keep_bytes(self, sink: UploadSink, sha256: str) -> None:
        """With the row in, the bytes must be too: a delete of the same bytes racing this
        upload may have moved them away, even the copy this upload stored, before the row
        was in (``gifdist.assets.deletion``); put them back from the upload's own file."""
        if self.blobs.exists(sha256):
            return
        if os.path.exists(sink.path):
            self.blobs.put_temp(sink.path, sha256)
        elif not self.blobs.restore(sha256):
            raise ServiceUnavailable(
                "the same GIF was deleted while it uploaded; upload it again", code="retry"
            )

    def _candidate_ids(self, sha256: str, owner_id: str | None) -> list[str]:
        """Ids for one owner's asset over these bytes, shortest first.

        Keyed by the secret key, the owner and the hash: knowing the bytes must not
        let anyone compute another owner's asset id (the seed's plain hash-based id
        would). Longer prefixes are tried if a shorter one is taken.
        """
        keyed = hmac.new(
            self._id_key, f"asset:{owner_id or '-'}:{sha256}".encode(), hashlib.sha256
        ).hexdigest()
        first = self.rules.asset_id_length
        lengths = [first, *range(max(first + 4, 16), 65, 4)]
        return list(dict.fromkeys(keyed[:n] for n in lengths))


def _second_name(path: str) -> str:
    """A second name for the upload's file (a hard link, a copy where links fail), for
    the blob store to take while the upload keeps its own until its row is in."""
    second = f"{path}.put"
    try:
        os.link(path, second)
    except OSError:
        shutil.copyfile(path, second)
    return second
