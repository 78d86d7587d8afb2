"""The moderation job queue: uploads waiting for a scan, claimed by one worker each."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime
from typing import Protocol


class ModerationQueue(Protocol):
    """Jobs by asset id; SQL in :mod:`gifdist.stores.moderation_queue_sql`."""

    def claim(self, worker_id: str) -> str | None:
        """Take the oldest queued job (each job is handed to exactly one worker)."""
        ...

    def finish(self, asset_id: str) -> None: ...

    def fail(self, asset_id: str, error: str, *, max_attempts: int = 5) -> None:
        """Put a job back (or park it as failed after ``max_attempts``)."""
        ...

    def requeue_stale(self, older_than: datetime) -> int:
        """Return jobs claimed by a worker that died to the queue; how many."""
        ...

    def enqueue(self, asset_id: str) -> None:
        """Queue an asset for (re-)moderation, e.g. after enough reports."""
        ...

    def pending(self) -> int: ...


@dataclasses.dataclass
class _Job:
    state: str
    created_at: datetime
    attempts: int = 0
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    last_error: str | None = None


class InMemoryModerationQueue:
    """Jobs in a dict behind a lock (the contract's reference implementation)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}

    def claim(self, worker_id: str) -> str | None:
        with self._lock:
            queued = [(j.created_at, a) for a, j in self._jobs.items() if j.state == "queued"]
            if not queued:
                return None
            _, asset_id = min(queued)
            job = self._jobs[asset_id]
            job.state, job.claimed_by, job.claimed_at = "running", worker_id, datetime.now(UTC)
            job.attempts += 1
            return asset_id

    def finish(self, asset_id: str) -> None:
        with self._lock:
            self._jobs.pop(asset_id, None)

    def fail(self, asset_id: str, error: str, *, max_attempts: int = 5) -> None:
        with self._lock:
            job = self._jobs.get(asset_id)
            if job is None:
                return
            job.state = "failed" if job.attempts >= max_attempts else "queued"
            job.last_error, job.claimed_by = error[:2000], None

    def requeue_stale(self, older_than: datetime) -> int:
        with self._lock:
            stale = [
                j
                for j in self._jobs.values()
                if j.state == "running" and j.claimed_at is not None and j.claimed_at < older_than
            ]
            for job in stale:
                job.state, job.claimed_by = "queued", None
            return len(stale)

    def enqueue(self, asset_id: str) -> None:
        with self._lock:
            self._jobs.setdefault(asset_id, _Job("queued", datetime.now(UTC)))

    def pending(self) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.state in ("queued", "running"))
