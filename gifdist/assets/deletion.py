"""The steps of a delete after its transaction, done so that none half-happens.

The transaction (``AssetStore.delete_asset``) removes the rows, leaves the tombstones
and writes a pending-delete entry; then the analytics are erased and the bytes removed
(when no asset uses them), and the entry goes. A crash between steps leaves the entry,
and the next start (``finish_pending``) does the rest: every step is safe to repeat.

Bytes are removed so that an upload of the same bytes racing the delete keeps them:
they are first moved aside (quarantine), the content row is looked up again, and they
come back if an upload re-created it meanwhile; the upload, for its part, checks after
its own transaction that the bytes are in place (``Uploads``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from gifdist.assets.crashpoints import crash_point
from gifdist.assets.store import BlobStore, DeleteJournal, PendingDelete

log = logging.getLogger("gifdist.assets")


class ContentRemover:
    """Removes bytes no content row names any more, with their renditions; one remover
    per content at a time (two sharing the quarantine slot could drop bytes the other
    is putting back for an upload)."""

    def __init__(
        self, journal: DeleteJournal, blobs: BlobStore, delete_renditions: Callable[[str], int]
    ) -> None:
        self.journal = journal
        self.blobs = blobs
        self._delete_renditions = delete_renditions
        self.wait_seconds = 10.0  # for another remover of the same bytes
        self.stale_after = 300.0  # a claim this old is a crashed remover's

    def remove(self, sha256: str) -> bool | None:
        """Remove the bytes unless an upload uses them again: True if they went, False
        if they stay, None if another remover kept them busy (try again later)."""
        deadline = time.monotonic() + self.wait_seconds
        while not self.journal.claim_removal(sha256, self.stale_after):
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)
        try:
            return self._remove(sha256)
        finally:
            self.journal.release_removal(sha256)

    def _remove(self, sha256: str) -> bool:
        if self.journal.content_exists(sha256):
            return False
        self.blobs.quarantine(sha256)
        crash_point("delete.bytes_quarantined")
        if self.journal.content_exists(sha256):  # an upload came back while we moved them
            self.blobs.restore(sha256)
            return False
        self._delete_renditions(sha256)
        self.blobs.discard_quarantined(sha256)
        return True


class DeleteFinisher:
    """Does a committed delete's remaining steps; at start-up, every pending one's; and
    sweeps blobs that nothing names (an upload killed between its bytes and its row)."""

    def __init__(
        self,
        journal: DeleteJournal,
        remover: ContentRemover,
        erase_analytics: Callable[[str], None],
    ) -> None:
        self.journal = journal
        self.remover = remover
        self._erase_analytics = erase_analytics

    def finish(self, pending: PendingDelete) -> None:
        self._erase_analytics(pending.asset_id)
        crash_point("delete.analytics_erased")
        if pending.sha256 is not None and self.remover.remove(pending.sha256) is None:
            log.warning(
                "bytes of deleted %s are busy; the next repair removes them", pending.asset_id
            )
            return
        self.journal.finish(pending.asset_id)

    def finish_pending(self) -> int:
        """Finish every delete a crash interrupted; how many there were."""
        pending = self.journal.pending()
        for item in pending:
            self.finish(item)
        if pending:
            log.info("finished %d interrupted delete(s)", len(pending))
        return len(pending)

    def sweep_orphans(self, older_than: float = 3600.0) -> int:
        """Remove blobs older than ``older_than`` seconds that no content or rendition
        names; how many. Younger ones may belong to an upload still in flight."""
        removed = 0
        batch: list[str] = []
        for name in self.remover.blobs.names(older_than):
            batch.append(name)
            if len(batch) >= 500:
                removed += self._sweep(batch)
                batch = []
        removed += self._sweep(batch)
        if removed:
            log.info("removed %d blob(s) nothing names", removed)
        return removed

    def _sweep(self, names: list[str]) -> int:
        return sum(bool(self.remover.remove(name)) for name in self.journal.unreferenced(names))

    def repair(self) -> None:
        """The hourly pass: unfinished deletes, then blobs nothing names."""
        self.finish_pending()
        self.sweep_orphans()
