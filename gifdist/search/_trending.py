"""Trending: clicks and shares of the last day, newer ones counting more."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Protocol

TRENDING_EVENTS = ("click", "share")
WINDOW_HOURS = 24
HALF_LIFE_HOURS = 6.0


class RecentActivity(Protocol):
    """Counts per asset and hour bucket (epoch hours) since ``since_hour``, for the
    given event types and counted audiences only (the analytics rollups)."""

    def hourly_counts(
        self, event_types: Sequence[str], since_hour: int
    ) -> list[tuple[str, int, int]]: ...


def trending_scores(
    rows: Iterable[tuple[str, int, int]], now_hour: int, *, half_life: float = HALF_LIFE_HOURS
) -> dict[str, float]:
    """Sum of counts, each halved for every ``half_life`` hours of age."""
    scores: dict[str, float] = defaultdict(float)
    for asset_id, hour, count in rows:
        age = max(0, now_hour - hour)
        scores[asset_id] += count * 0.5 ** (age / half_life)
    return dict(scores)


def ranked(scores: dict[str, float]) -> list[str]:
    """Asset ids by score, highest first; ties by asset id (stable across nodes)."""
    return [a for a, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]
