"""Write-behind event ingestion: requests hand events to a buffer, a thread writes them.

``offer`` never blocks and never touches the database. A background thread writes
batches (by size or every ``flush_interval`` seconds) in one transaction each; a
failed batch is kept and retried with backoff. When the buffer is full, new events
are dropped and counted (``dropped``); ``stop`` flushes everything still held.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from gifdist.analytics import AnalyticsEvent, AnalyticsStore

log = logging.getLogger("gifdist.ingest")


class EventBuffer:
    def __init__(
        self,
        store: AnalyticsStore,
        *,
        max_events: int = 100_000,
        batch_size: int = 1000,
        flush_interval: float = 1.0,
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.max_events = max_events
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.on_drop = on_drop
        self.dropped = 0
        self.written = 0
        self._queue: deque[AnalyticsEvent] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def depth(self) -> int:
        return len(self._queue)

    def offer(self, event: AnalyticsEvent) -> bool:
        """Queue an event; False (and counted) when the buffer is full."""
        if len(self._queue) >= self.max_events:
            self.dropped += 1
            if self.on_drop is not None:
                self.on_drop(1)
            return False
        self._queue.append(event)
        if len(self._queue) >= self.batch_size:
            self._wake.set()
        return True

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gifdist-events", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.flush()

    def flush(self) -> None:
        """Write everything queued now (used on shutdown and by tests)."""
        while self._queue:
            if not self._write_batch():
                return

    def _run(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            self._wake.wait(backoff or self.flush_interval)
            self._wake.clear()
            ok = True
            while ok and self._queue and not self._stop.is_set():
                ok = self._write_batch()
            backoff = 0.0 if ok else min(max(backoff * 2, 0.5), 10.0)

    def _write_batch(self) -> bool:
        with self._lock:
            batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
            if not batch:
                return True
            try:
                self.store.record(batch)
            except Exception as exc:  # the database is down: keep the batch, retry later
                self._queue.extendleft(reversed(batch))
                log.warning("could not write %d events (%s); will retry", len(batch), exc)
                return False
            self.written += len(batch)
            return True
