"""A bounded-memory quantile sketch for the in-process histograms of ``gifdist.observability``."""

from __future__ import annotations

import math
from collections.abc import Iterator

__all__ = ["QuantileSketch"]


class QuantileSketch:
    """Log-bucket quantile sketch (the DDSketch idea) with bounded memory.

    A value ``x`` is counted in bucket ``ceil(log_gamma |x|)`` with
    ``gamma = (1 + alpha) / (1 - alpha)``; the bucket is read back as
    ``2 * gamma**i / (gamma + 1)``, so every quantile is within relative error
    ``alpha`` (``relative_accuracy``, default 0.01 = 1%) of the exact sample at that
    rank. Values spanning 1e-3..1e6 need about 1,040 buckets at alpha=0.01. Each sign
    keeps at most ``max_buckets`` buckets; beyond that the smallest magnitudes are
    merged, trading their accuracy for bounded memory. Count, sum, min and max are exact.
    """

    _MIN_MAGNITUDE = 1e-9  # smaller magnitudes are counted as zero

    def __init__(self, relative_accuracy: float = 0.01, max_buckets: int = 2048) -> None:
        if not 0 < relative_accuracy < 1:
            raise ValueError(f"relative_accuracy must be in (0, 1), got {relative_accuracy}")
        if max_buckets < 1:
            raise ValueError(f"max_buckets must be at least 1, got {max_buckets}")
        self.relative_accuracy = relative_accuracy
        self.max_buckets = max_buckets
        self._gamma = (1 + relative_accuracy) / (1 - relative_accuracy)
        self._log_gamma = math.log(self._gamma)
        self._positive: dict[int, int] = {}
        self._negative: dict[int, int] = {}
        self._zero = 0
        self.count = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf

    @property
    def bucket_count(self) -> int:
        return len(self._positive) + len(self._negative) + (1 if self._zero else 0)

    def add(self, value: float) -> None:
        """Count one finite value."""
        self.count += 1
        self.sum += value
        self.min = min(self.min, value)
        self.max = max(self.max, value)
        magnitude = abs(value)
        if magnitude < self._MIN_MAGNITUDE:
            self._zero += 1
            return
        store = self._positive if value > 0 else self._negative
        index = math.ceil(math.log(magnitude) / self._log_gamma)
        store[index] = store.get(index, 0) + 1
        if len(store) > self.max_buckets:
            self._collapse_smallest(store)

    def quantile(self, q: float) -> float:
        """The value at quantile ``q`` in [0, 1]; raises ValueError if empty or q is out of range."""
        if not 0 <= q <= 1:
            raise ValueError(f"quantile must be in [0, 1], got {q}")
        if self.count == 0:
            raise ValueError("quantile of an empty sketch")
        rank = q * (self.count - 1)
        seen = 0
        for value, count in self._buckets_ascending():
            seen += count
            if seen > rank:
                return min(max(value, self.min), self.max)
        return self.max

    def _collapse_smallest(self, store: dict[int, int]) -> None:
        indexes = sorted(store)
        excess = len(indexes) - self.max_buckets
        target = indexes[excess]
        for index in indexes[:excess]:
            store[target] += store.pop(index)

    def _buckets_ascending(self) -> Iterator[tuple[float, int]]:
        for index in sorted(self._negative, reverse=True):
            yield -self._bucket_value(index), self._negative[index]
        if self._zero:
            yield 0.0, self._zero
        for index in sorted(self._positive):
            yield self._bucket_value(index), self._positive[index]

    def _bucket_value(self, index: int) -> float:
        try:
            return 2 * math.exp(index * self._log_gamma) / (self._gamma + 1)
        except OverflowError:  # only near float max; the caller clamps to the exact max
            return math.inf
