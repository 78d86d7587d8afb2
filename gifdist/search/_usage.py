"""What GIF API clients do: searches, impressions and shares per client and platform.

Every call of the Tenor- or GIPHY-compatible API is one *search* (search, trending,
featured, posts), and each GIF it answers is one *impression*; Tenor's
``registershare`` is one *share* (also counted in the GIF's own analytics, where it
feeds trending). A client is the gifdist key it calls with (``""`` when anonymous
calls are allowed) and the ``client_key`` it names itself by; the platform is what it
says with ``via`` (``slack``, ``discord``…, the alias table of ``gifdist.platforms``),
or ``other``.

Counting costs a dictionary update: ``GifApiUsage`` adds to in-process counters per
(day, api, key, client, platform) and writes them to its ``UsageStore`` as deltas
every few seconds and when the service stops, so database writes grow with the
number of clients, not with the number of calls. Reports add what is still pending,
so a count is visible as soon as it is made.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from gifdist.errors import InvalidInput
from gifdist.periodic import PeriodicTask

MAX_REPORT_DAYS = 366
CLIENT_KEY_CHARS = 64  # what is counted; a longer client_key is cut
MAX_CLIENT_KEY_CHARS = 256  # what a request may send


def client_key_of(raw: str) -> str:
    """A request's ``client_key`` as counted (``InvalidInput`` for one that is too long
    or holds a control character: a NUL cannot be stored, and a batch of counts with
    one would fail to be written at all)."""
    if len(raw) > MAX_CLIENT_KEY_CHARS:
        raise InvalidInput(
            f"client_key is longer than {MAX_CLIENT_KEY_CHARS} characters",
            code="invalid_client_key",
        )
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in raw):
        raise InvalidInput(
            "client_key cannot contain control characters (such as NUL)",
            code="invalid_client_key",
        )
    return raw.strip()


class GifApi(StrEnum):
    TENOR = "tenor"
    GIPHY = "giphy"


class UsageKind(StrEnum):
    SEARCHES = "searches"
    IMPRESSIONS = "impressions"
    SHARES = "shares"


@dataclass(frozen=True, slots=True)
class UsageKey:
    """One counter row: a day of one client's calls through one API on one platform."""

    day: date
    api: GifApi
    key_id: str
    client_key: str
    platform: str


@dataclass(frozen=True, slots=True)
class UsageRow:
    """What one client did through one API on one platform in a reporting window."""

    api: str
    key_id: str
    client_key: str
    platform: str
    searches: int
    impressions: int
    shares: int

    def to_json(self) -> dict[str, object]:
        return {
            "api": self.api,
            "key_id": self.key_id or None,
            "client_key": self.client_key,
            "platform": self.platform,
            "searches": self.searches,
            "impressions": self.impressions,
            "shares": self.shares,
        }


Deltas = Mapping[UsageKey, Mapping[UsageKind, int]]


class UsageStore(Protocol):
    """Where usage counters live (``MemoryUsageStore`` here, SQL in
    ``gifdist.stores.gif_api_usage_sql``)."""

    def add(self, deltas: Deltas) -> None:
        """Add every delta to its row (creating rows), all or nothing."""
        ...

    def totals(self, since: date, key_id: str | None = None) -> dict[UsageKey, Counter[UsageKind]]:
        """Every row from ``since`` on (of one key when ``key_id`` is given)."""
        ...


class MemoryUsageStore:
    """Usage counters in a dictionary (tests and the in-process library)."""

    def __init__(self) -> None:
        self._rows: dict[UsageKey, Counter[UsageKind]] = {}
        self._lock = threading.Lock()

    def add(self, deltas: Deltas) -> None:
        with self._lock:
            for key, counts in deltas.items():
                self._rows.setdefault(key, Counter()).update(counts)

    def totals(self, since: date, key_id: str | None = None) -> dict[UsageKey, Counter[UsageKind]]:
        with self._lock:
            return {
                k: Counter(v)
                for k, v in self._rows.items()
                if k.day >= since and (key_id is None or k.key_id == key_id)
            }


class GifApiUsage:
    """Counts GIF API calls in process and writes them to a store as deltas."""

    def __init__(
        self,
        store: UsageStore,
        *,
        flush_seconds: float = 5.0,
        today: Callable[[], date] | None = None,
    ) -> None:
        self.store = store
        self._flusher = PeriodicTask("gif-api-usage", flush_seconds, self.flush)
        self._today = today or (lambda: datetime.now(UTC).date())
        self._pending: dict[UsageKey, Counter[UsageKind]] = {}
        self._lock = threading.Lock()

    def record(
        self,
        api: GifApi,
        key_id: str | None,
        client_key: str,
        platform: str,
        counts: Mapping[UsageKind, int],
    ) -> None:
        """Count ``counts`` for one client (cheap: no I/O)."""
        key = UsageKey(self._today(), api, key_id or "", client_key[:CLIENT_KEY_CHARS], platform)
        with self._lock:
            self._pending.setdefault(key, Counter()).update(counts)

    def flush(self) -> int:
        """Write what is pending; returns the number of rows written. On a store
        error the deltas go back to pending (nothing counted is lost)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        try:
            self.store.add(pending)
        except BaseException:
            with self._lock:
                for key, counts in pending.items():
                    self._pending.setdefault(key, Counter()).update(counts)
            raise
        return len(pending)

    def report(self, days: int = 30, key_id: str | None = None) -> list[UsageRow]:
        """Per client and platform over the last ``days`` days (today included), most
        searches first; only ``key_id``'s calls when given."""
        if not 1 <= days <= MAX_REPORT_DAYS:
            raise InvalidInput(
                f"days must be between 1 and {MAX_REPORT_DAYS}; got {days}", code="invalid_days"
            )
        since = self._today() - timedelta(days=days - 1)
        rows = self.store.totals(since, key_id)
        with self._lock:
            pending = [
                (k, Counter(v))
                for k, v in self._pending.items()
                if k.day >= since and (key_id is None or k.key_id == key_id)
            ]
        return _summed(list(rows.items()) + pending)

    def start(self) -> None:
        """Flush every ``flush_seconds`` in a background thread."""
        self._flusher.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop flushing in the background and write what is pending."""
        self._flusher.stop(timeout)
        self.flush()


def _summed(rows: Iterable[tuple[UsageKey, Counter[UsageKind]]]) -> list[UsageRow]:
    sums: dict[tuple[str, str, str, str], Counter[UsageKind]] = {}
    for key, counts in rows:
        sums.setdefault(
            (key.api.value, key.key_id, key.client_key, key.platform), Counter()
        ).update(counts)
    found = [
        UsageRow(
            api,
            key_id,
            client,
            platform,
            counts[UsageKind.SEARCHES],
            counts[UsageKind.IMPRESSIONS],
            counts[UsageKind.SHARES],
        )
        for (api, key_id, client, platform), counts in sums.items()
    ]
    found.sort(key=lambda r: (-r.searches, -r.shares, r.api, r.key_id, r.client_key, r.platform))
    return found
