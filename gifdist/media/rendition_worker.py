"""Making renditions in the background: once per content, after moderation approves.

``RenditionMaker`` is the use case (queue a content, convert it, store the results,
delete them); ``RenditionWorker`` is the thread that drains the queue, one content
at a time, each conversion in a budgeted child process (see
``gifdist.media.renditions.convert_within_budget``), so renditions never run on a
request path and never use more than about one core. Jobs live in the database
(``rendition_jobs``) and are claimed there, so several processes convert each
content once. A failed conversion is retried with exponential backoff and parked
as ``failed`` after ``max_attempts``; the GIF is served all along.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gifdist.assets.store import BlobStore
from gifdist.caching.ttl import TTLCache
from gifdist.media.rendition_store import RenditionStore, StoredRendition
from gifdist.media.renditions import (
    ALL_KINDS,
    MadeRendition,
    RenditionBudget,
    RenditionFailed,
    RenditionKind,
    RenditionResult,
    convert_within_budget,
)
from gifdist.observability.metrics import record_rendition_job

log = logging.getLogger("gifdist.renditions")

STALE_CLAIM = timedelta(minutes=15)
Converter = Callable[..., RenditionResult]


class RenditionMaker:
    """Turns an approved content into stored renditions, once."""

    def __init__(
        self,
        store: RenditionStore,
        blobs: BlobStore,
        *,
        budget: RenditionBudget = RenditionBudget(),
        max_attempts: int = 5,
        backoff_seconds: float = 60.0,
        convert: Converter = convert_within_budget,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.budget = budget
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.convert = convert
        self.on_made: list[Callable[[str], None]] = []
        self.worker_id = uuid.uuid4().hex[:8]
        # the hot paths read renditions from here; a content converted or deleted on
        # another node shows within the TTL
        self.cache: TTLCache[str, dict[RenditionKind, StoredRendition]] = TTLCache(50_000, ttl=5.0)
        self.on_made.append(self.cache.invalidate)

    def request(self, sha256: str) -> bool:
        """Queue ``sha256`` for conversion (nothing happens if it was queued or made)."""
        return self.store.enqueue(sha256)

    def renditions(self, sha256: str) -> dict[RenditionKind, StoredRendition]:
        """The content's stored renditions (from the cache when fresh)."""
        found = self.cache.get(sha256)
        if found is None:
            found = self.store.for_content(sha256)
            self.cache.set(sha256, found)
        return found

    def run_next(self, now: datetime | None = None) -> str | None:
        """Claim and convert the next due content; its hash, or None when idle."""
        sha256 = self.store.claim(self.worker_id, now or datetime.now(UTC))
        if sha256 is None:
            return None
        started = time.monotonic()
        try:
            result = self.make(sha256)
        except Exception as exc:  # any failure is retried later; the queue goes on
            self._failed(sha256, exc)
            return sha256
        note = "; ".join(f"{k.value}: {why}" for k, why in result.skipped.items()) or None
        self.store.finish(sha256, note)
        record_rendition_job("made", time.monotonic() - started)
        return sha256

    def make(self, sha256: str) -> RenditionResult:
        """Convert the content now and store what was made (the caller owns the job)."""
        work = Path(self._work_dir())
        try:
            source = str(work / "source.gif")
            if not self.blobs.copy_to(sha256, source):
                raise RenditionFailed("the GIF's bytes are not in the blob store")
            result = self.convert(source, work / "out", kinds=ALL_KINDS, budget=self.budget)
            self.store.record(self._store(sha256, made) for made in result.made.values())
        finally:
            shutil.rmtree(work, ignore_errors=True)
        log.info(
            "renditions of %s: made %s%s",
            sha256[:16],
            ", ".join(kind.value for kind in result.made) or "none",
            f"; skipped {', '.join(kind.value for kind in result.skipped)}"
            if result.skipped
            else "",
        )
        for callback in self.on_made:
            callback(sha256)
        return result

    def delete_for_content(self, sha256: str) -> int:
        """Remove a content's renditions: rows, jobs and the blobs no other content
        shares. Returns how many blobs were deleted (for the asset-deletion use case)."""
        removed = 0
        for blob in self.store.remove_content(sha256):
            removed += bool(self.blobs.delete(blob))
        for callback in self.on_made:
            callback(sha256)
        return removed

    def _store(self, sha256: str, made: MadeRendition) -> StoredRendition:
        blob = _sha256_of(made.path)
        self.blobs.put_temp(made.path, blob, content_type=made.content_type)
        return StoredRendition(
            sha256=sha256,
            kind=made.kind,
            blob_sha256=blob,
            content_type=made.content_type,
            width=made.width,
            height=made.height,
            bytes=made.bytes,
            created_at=datetime.now(UTC),
        )

    def _work_dir(self) -> str:
        """A scratch directory on the blob store's filesystem (so results move in by
        rename); stale ones are removed with the store's other temporaries."""
        handle, probe = self.blobs.temp_file()
        handle.close()
        os.unlink(probe)
        return tempfile.mkdtemp(dir=os.path.dirname(probe), prefix="renditions-")

    def _failed(self, sha256: str, exc: Exception) -> None:
        reason = exc.message if isinstance(exc, RenditionFailed) else f"{type(exc).__name__}: {exc}"
        attempts = self.store.attempts(sha256)
        if attempts >= self.max_attempts:
            self.store.fail(sha256, reason, None)
            record_rendition_job("failed")
            log.error(
                "renditions of %s failed %d times, giving up: %s", sha256[:16], attempts, reason
            )
            return
        delay = self.backoff_seconds * 2 ** (attempts - 1)
        self.store.fail(sha256, reason, datetime.now(UTC) + timedelta(seconds=delay))
        record_rendition_job("retry")
        log.warning(
            "renditions of %s failed (attempt %d), retrying in %.0f s: %s",
            sha256[:16],
            attempts,
            delay,
            reason,
        )


class RenditionWorker:
    """A background thread converting queued contents one at a time."""

    def __init__(self, maker: RenditionMaker, *, poll_interval: float = 5.0) -> None:
        self.maker = maker
        self.poll_interval = poll_interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gifdist-renditions", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def notify(self, _sha256: str | None = None) -> None:
        """Wake the worker now (a content was approved)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.maker.store.requeue_stale(datetime.now(UTC) - STALE_CLAIM)
                while not self._stop.is_set() and self.maker.run_next() is not None:
                    pass
            except Exception:
                log.exception("rendition worker: cannot reach the job queue")
            self._wake.wait(self.poll_interval)
            self._wake.clear()


def backfill(
    maker: RenditionMaker,
    contents: Iterable[str],
    *,
    retry_failed: bool = False,
    progress: Callable[[str, RenditionResult | Exception | None], None] | None = None,
) -> dict[str, int]:
    """Make renditions of ``contents`` here and now (``gifdist renditions backfill``).

    Each content is queued (unless done) and converted in this process, one at a
    time; ``progress`` hears of each. Returns counts: made, skipped (already done),
    failed.
    """
    counts = {"made": 0, "skipped": 0, "failed": 0}
    for sha256 in contents:
        maker.store.enqueue(sha256, retry_failed=retry_failed)
        outcome: RenditionResult | Exception | None = None
        if maker.store.claim(maker.worker_id, datetime.now(UTC), only=sha256) is None:
            counts["skipped"] += 1  # done, failed, or being converted by another process
        else:
            try:
                outcome = maker.make(sha256)
                maker.store.finish(sha256)
                counts["made"] += 1
            except Exception as exc:  # reported per content; the backfill goes on
                maker.store.fail(sha256, f"{type(exc).__name__}: {exc}", None)
                outcome = exc
                counts["failed"] += 1
        if progress is not None:
            progress(sha256, outcome)
    return counts


def video_available() -> bool:
    """True when PyAV (the ``video`` extra) can be imported."""
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()
