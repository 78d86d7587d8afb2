from __future__ import annotations

from datetime import date

from gifdist.analytics.visitors import VisitorHasher


def test_same_visitor_same_day_hashes_equal_and_never_contains_the_address() -> None:
    hasher = VisitorHasher(b"secret", today=lambda: date(2026, 1, 1))
    first = hasher.visitor_id("203.0.113.9")
    assert first == hasher.visitor_id("203.0.113.9")
    assert "203" not in first and len(first) == 16
    assert first != hasher.visitor_id("203.0.113.10")


def test_hash_changes_with_the_day_and_the_secret() -> None:
    day = [date(2026, 1, 1)]
    hasher = VisitorHasher(b"secret", today=lambda: day[0])
    monday = hasher.visitor_id("198.51.100.1")
    day[0] = date(2026, 1, 2)
    assert hasher.visitor_id("198.51.100.1") != monday
    other = VisitorHasher(b"other", today=lambda: date(2026, 1, 1))
    assert other.visitor_id("198.51.100.1") != monday
