"""Per-user quotas: bytes of GIFs stored and uploads per 24 hours.

Each user has the deployment's defaults (``GIFDIST_QUOTA_*``) unless set for them;
0 means unlimited. Operator keys (no user) have no quota. An upload past a quota is
refused before its bytes are stored: 413 for space, 429 for the daily count. The same
check runs again inside the new asset's transaction under a lock per owner
(``Quotas.admission``), so uploads racing each other are judged one after another; one refused
there leaves its bytes to the sweep of unnamed blobs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gifdist.accounts.keys import ApiKey
from gifdist.accounts.users import User, UserStore
from gifdist.assets.store import Admission
from gifdist.errors import PayloadTooLarge, TooManyRequests

# (bytes stored, uploads since) for an owner id
UsageQuery = Callable[[str, datetime], tuple[int, int]]
DAY = timedelta(hours=24)


def human_bytes(value: int) -> str:
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Usage:
    bytes_stored: int
    uploads_today: int
    max_bytes: int  # 0: unlimited
    max_uploads_per_day: int  # 0: unlimited

    @property
    def bytes_human(self) -> str:
        return human_bytes(self.bytes_stored)

    @property
    def max_bytes_human(self) -> str:
        return human_bytes(self.max_bytes)

    def to_json(self) -> dict[str, int]:
        return {
            "bytes_stored": self.bytes_stored,
            "max_bytes": self.max_bytes,
            "uploads_last_24h": self.uploads_today,
            "max_uploads_per_day": self.max_uploads_per_day,
        }


class Quotas:
    """Reads and enforces users' quotas."""

    def __init__(
        self, store: UserStore, usage: UsageQuery, *, max_bytes: int, max_uploads_per_day: int
    ) -> None:
        self.store = store
        self._usage = usage
        self.max_bytes = max_bytes
        self.max_uploads_per_day = max_uploads_per_day

    def usage(self, user: User) -> Usage:
        stored, today = self._usage(user.user_id, datetime.now(UTC) - DAY)
        return self.usage_of(user, stored, today)

    def admission(self, owner: ApiKey, size: int) -> Admission | None:
        """Raise unless ``owner``'s user may store ``size`` more bytes now (checked
        before the bytes are stored), and return the same check for the asset store to
        run again inside the upload's transaction, under the owner's lock, so racing
        uploads cannot pass a quota together (None: no quota applies)."""
        if owner.user_id is None:
            return None
        user = self.store.get(owner.user_id)
        if user is None:
            return None
        usage = self.usage(user)
        if not usage.max_bytes and not usage.max_uploads_per_day:
            return None
        _refuse_if_over(usage, size)

        def check(bytes_stored: int, uploads_today: int) -> None:
            _refuse_if_over(self.usage_of(user, bytes_stored, uploads_today), size)

        return Admission(user.user_id, datetime.now(UTC) - DAY, check)

    def usage_of(self, user: User, bytes_stored: int, uploads_today: int) -> Usage:
        """``user``'s limits beside the given usage."""
        return Usage(
            bytes_stored,
            uploads_today,
            user.quota_bytes if user.quota_bytes is not None else self.max_bytes,
            user.quota_uploads_per_day
            if user.quota_uploads_per_day is not None
            else self.max_uploads_per_day,
        )


def _refuse_if_over(usage: Usage, size: int) -> None:
    """413 past the storage quota, 429 past the daily uploads, with what is left."""
    if usage.max_bytes and usage.bytes_stored + size > usage.max_bytes:
        left = max(0, usage.max_bytes - usage.bytes_stored)
        raise PayloadTooLarge(
            f"this upload ({human_bytes(size)}) would pass your storage quota of "
            f"{human_bytes(usage.max_bytes)} ({human_bytes(left)} left); delete GIFs "
            "or ask an admin for more",
            code="quota_bytes",
        )
    if usage.max_uploads_per_day and usage.uploads_today >= usage.max_uploads_per_day:
        error = TooManyRequests(
            f"you have made {usage.uploads_today} uploads in the last 24 hours, your "
            f"quota; try again later",
            retry_after=3600,
        )
        error.code = "quota_uploads"
        raise error
