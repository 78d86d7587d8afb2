"""Abuse reports: the store contract (SQL in :mod:`gifdist.stores.reports_sql`)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol


class ReportStore(Protocol):
    """One report per reporter and asset, counted since the asset's last review."""

    def add(self, asset_id: str, reporter_hash: str, reason: str) -> bool:
        """Record a report; False when this reporter already reported the asset."""
        ...

    def count_since(self, asset_id: str, since: datetime | None) -> int: ...

    def reasons(self, asset_ids: Iterable[str], limit: int = 5) -> dict[str, list[str]]: ...


class InMemoryReportStore:
    """Reports in a list (the contract's reference implementation)."""

    def __init__(self) -> None:
        self._reports: list[tuple[str, str, str, datetime]] = []
        self._lock = threading.Lock()

    def add(self, asset_id: str, reporter_hash: str, reason: str) -> bool:
        with self._lock:
            if any(a == asset_id and r == reporter_hash for a, r, _, _ in self._reports):
                return False
            self._reports.append((asset_id, reporter_hash, reason, datetime.now(UTC)))
            return True

    def count_since(self, asset_id: str, since: datetime | None) -> int:
        with self._lock:
            return sum(
                1
                for a, _, _, at in self._reports
                if a == asset_id and (since is None or at > since)
            )

    def reasons(self, asset_ids: Iterable[str], limit: int = 5) -> dict[str, list[str]]:
        wanted = set(asset_ids)
        found: dict[str, list[str]] = {}
        with self._lock:
            for asset_id, _, reason, _ in reversed(self._reports):
                if asset_id in wanted and len(found.setdefault(asset_id, [])) < limit:
                    found[asset_id].append(reason)
        return found
