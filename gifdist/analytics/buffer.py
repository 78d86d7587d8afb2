"""Write-behind event ingestion: requests hand events to a buffer, a thread writes them.

``offer`` never blocks on the database. A background thread writes batches (by
size or every ``flush_interval`` seconds) in one transaction each; a failed batch
is kept and retried with backoff, so a database outage delays events but does not
lose them. When the in-memory buffer is full, events spill to a JSON-lines file
(``spill_path``) and are written from there once the buffer has room; only when
the spill file cannot be written either is an event dropped and counted
(``dropped``). ``stop`` flushes everything still held.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gifdist.analytics.tracker import AnalyticsEvent, AnalyticsStore
from gifdist.analytics.types import EventType, Platform
from gifdist.periodic import PeriodicTask

log = logging.getLogger("gifdist.analytics.buffer")


def event_to_line(event: AnalyticsEvent) -> str:
    return json.dumps(
        {
            "id": event.event_id,
            "a": event.asset_id,
            "t": event.event_type.value,
            "p": event.platform.value,
            "ts": event.timestamp.timestamp(),
            "c": event.short_code,
            "au": event.audience,
            "v": event.visitor,
            "m": event.metadata,
        },
        default=str,
        separators=(",", ":"),
    )


def event_from_line(line: str) -> AnalyticsEvent:
    d = json.loads(line)
    return AnalyticsEvent(
        d["id"],
        d["a"],
        EventType(d["t"]),
        Platform(d["p"]),
        datetime.fromtimestamp(d["ts"], UTC),
        d["c"],
        d["au"],
        d["v"],
        d["m"] or {},
    )


class EventBuffer:
    def __init__(
        self,
        store: AnalyticsStore,
        *,
        max_events: int = 100_000,
        batch_size: int = 1000,
        flush_interval: float = 1.0,
        spill_path: Path | None = None,
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.max_events = max_events
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.spill_path = spill_path
        self.on_drop = on_drop
        self.dropped = 0
        self.spilled = 0
        self.written = 0
        self.failures = 0
        self._queue: deque[AnalyticsEvent] = deque()
        self._lock = threading.Lock()  # one writer at a time
        self._spill_lock = threading.Lock()
        self._spill_pending = spill_path is not None and _has_spill_files(spill_path)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def depth(self) -> int:
        return len(self._queue)

    def offer(self, event: AnalyticsEvent) -> bool:
        """Queue an event: in memory, else in the spill file; False (counted) if neither."""
        depth = len(self._queue)
        if depth < self.max_events:
            self._queue.append(event)
            if (depth + 1) % self.batch_size == 0:  # a full batch: wake the writer (once)
                self._wake.set()
            return True
        if self._spill(event):
            return True
        self.dropped += 1
        if self.on_drop is not None:
            self.on_drop(1)
        return False

    def _spill(self, event: AnalyticsEvent) -> bool:
        if self.spill_path is None:
            return False
        try:
            with self._spill_lock:
                self.spill_path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.spill_path, "a", encoding="utf-8") as handle:
                    handle.write(event_to_line(event) + "\n")
                self.spilled += 1
                self._spill_pending = True
        except OSError as exc:
            log.error("cannot spill analytics events to %s: %s", self.spill_path, exc)
            return False
        return True

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gifdist-events", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and write what is held, retrying until ``timeout``.

        If the database is still unreachable then, the held events go to the spill
        file, which the next process writes: an acknowledged event is never lost.
        """
        deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        pause = 0.1
        while not self.flush():
            if time.monotonic() + pause > deadline:
                self._spill_queue()
                return
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def _spill_queue(self) -> None:
        with self._lock:
            held = list(self._queue)
            self._queue.clear()
        kept = sum(1 for event in held if self._spill(event))
        if kept < len(held):
            self.dropped += len(held) - kept
            if self.on_drop is not None:
                self.on_drop(len(held) - kept)
        log.error(
            "database unavailable at shutdown: %d events kept in %s, %d lost",
            kept,
            self.spill_path,
            len(held) - kept,
        )

    def flush(self) -> bool:
        """Write everything held now, spilled events included; False if a write failed."""
        while self._queue:
            if not self._write_batch():
                return False
        return self._drain_spill()

    def _run(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            self._wake.wait(backoff or self.flush_interval)
            self._wake.clear()
            ok = True
            while ok and self._queue and not self._stop.is_set():
                ok = self._write_batch()
            if ok and self._spill_pending and not self._stop.is_set():
                ok = self._drain_spill()
            backoff = 0.0 if ok else min(max(backoff * 2, 0.5), 10.0)

    def _write_batch(self) -> bool:
        with self._lock:
            batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
            if not batch:
                return True
            if not self._record(batch):
                self._queue.extendleft(reversed(batch))
                return False
            return True

    def _record(self, batch: list[AnalyticsEvent]) -> bool:
        try:
            self.store.record(batch)
        except Exception as exc:  # the database is down: keep the batch, retry later
            self.failures += 1
            log.warning("could not write %d events (%s); will retry", len(batch), exc)
            return False
        self.written += len(batch)
        return True

    # spill file ----------------------------------------------------------------

    def _drain_spill(self) -> bool:
        """Write spilled events: claim the file (rename), write it in batches.

        On a failed batch the unwritten rest is kept in the claimed file and the next
        drain continues from there, so nothing is written twice or lost.
        """
        if self.spill_path is None or not self._spill_pending:
            return True
        draining = self.spill_path.with_name(f"draining-{os.getpid()}.jsonl")
        with self._spill_lock:
            parent = self.spill_path.parent
            claimed = [draining] if draining.exists() else []
            claimed += sorted(parent.glob(f"claimed-{os.getpid()}-*.jsonl"))
            for path in sorted(parent.glob("events-*.jsonl")):
                target = path.with_name(f"claimed-{os.getpid()}-{path.name}")
                try:
                    os.replace(path, target)
                except FileNotFoundError:  # another process claimed it first
                    continue
                claimed.append(target)
            self._spill_pending = False
        with self._lock:
            for path in claimed:
                if not self._write_file(path, draining):
                    self._spill_pending = True
                    return False
        return True

    def _write_file(self, path: Path, draining: Path) -> bool:
        lines = _read_lines(path)
        batch: list[AnalyticsEvent] = []
        done = 0
        for line in lines:
            try:
                batch.append(event_from_line(line))
            except (ValueError, KeyError, TypeError):
                log.error("skipping an unreadable spilled event in %s", path)
                done += 1
                continue
            if len(batch) >= self.batch_size:
                if not self._record(batch):
                    _keep_rest(path, done, draining)
                    return False
                done += len(batch)
                batch = []
        if batch and not self._record(batch):
            _keep_rest(path, done, draining)
            return False
        path.unlink(missing_ok=True)
        return True


def _has_spill_files(spill_path: Path) -> bool:
    return spill_path.parent.is_dir() and any(spill_path.parent.glob("*.jsonl"))


def _read_lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line


def _keep_rest(path: Path, done: int, draining: Path) -> None:
    """Rewrite ``path`` without its first ``done`` events, as the draining file."""
    rest = draining.with_suffix(".tmp")
    with open(rest, "w", encoding="utf-8") as out:
        for index, line in enumerate(_read_lines(path)):
            if index >= done:
                out.write(line)
        out.flush()
        os.fsync(out.fileno())
    os.replace(rest, draining)
    if path != draining:
        path.unlink(missing_ok=True)


class RetentionTask(PeriodicTask):
    """Deletes raw events older than ``days`` once an hour (rollups are kept)."""

    def __init__(self, store: Any, *, days: int, every: float = 3600.0) -> None:
        self.store = store
        self.days = days
        super().__init__("analytics-retention", every, self.run_once)

    def run_once(self) -> int:
        cutoff = datetime.now(UTC) - timedelta(days=self.days)
        removed: int = self.store.purge_events_older_than(cutoff)
        if removed:
            log.info("removed %d analytics events older than %d days", removed, self.days)
        return removed
