"""Tests for gifdist.observability: the seed examples, every public method, the bounds."""

from __future__ import annotations

import json
import logging
import math
import random
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from seed_readme_examples import EXAMPLES

from gifdist.observability import (
    DROPPED_SERIES_METRIC,
    OVERFLOW_TAGS,
    LogLevel,
    MetricsCollector,
    ObservabilityStack,
    QuantileSketch,
    Span,
    StructuredLogger,
    Tracer,
    get_current_span,
    json_safe,
)
from gifdist.observability.stack import _current_span as current_span_var

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
ALPHA = 0.01


@pytest.fixture(autouse=True)
def no_current_span() -> Iterator[None]:
    """Start each test with no current span; tests that leave spans open must not leak."""
    token = current_span_var.set(None)
    yield
    current_span_var.reset(token)


def exact_quantile(sorted_values: list[float], q: float) -> float:
    """The sample at rank floor(q * (n - 1)), the rank the sketch estimates."""
    return sorted_values[math.floor(q * (len(sorted_values) - 1))]


def relative_error(estimate: float, exact: float) -> float:
    return abs(estimate - exact) / abs(exact)


# --- Seed README examples (code copied verbatim, only the import adapted) -----------


def test_seed_observability_example_runs_and_records_everything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(EXAMPLES["Observability"], "seed-example", "exec"), namespace)
    obs, span, stats = namespace["obs"], namespace["span"], namespace["stats"]
    dashboard = namespace["dashboard"]

    # Two explicit logs plus the trace's start and finish logs.
    assert dashboard["logs"]["total"] == 4
    assert dashboard["logs"]["by_level"] == {"INFO": 3, "ERROR": 1}
    assert dashboard["traces"] == {
        "total": 1,
        "active": 0,
        "evicted_traces": 0,
        "dropped_spans": 0,
    }
    assert obs.metrics.get_counter("asset.uploads", tags={"status": "success"}) == 1.0
    assert obs.metrics.get_gauge("active_connections") == 42
    assert stats["count"] == 1
    assert stats["min"] == stats["max"] == stats["mean"] == 123.45
    assert stats["p95"] == stats["p99"] == stats["median"] == 123.45
    assert obs.metrics.get_histogram_stats("db_query", tags={"table": "assets"})["count"] == 1
    assert span.status == "success"
    assert span.tags == {"asset_type": "gif", "user_tier": "premium"}
    assert [entry["message"] for entry in span.logs] == ["Validating asset"]
    first = obs.logger.get_logs()[0]
    assert first.metadata == {"asset_id": "abc123", "user_id": "user_789"}
    assert first.service == "gif-api"
    out = capsys.readouterr().out
    assert "Total logs: 4\nActive traces: 0\np95: 123.45ms, p99: 123.45ms\n" in out


def test_seed_integration_example_runs_with_the_other_seed_modules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gifdist.analytics import AnalyticsTracker, EventType, Platform
    from gifdist.cdn import CDNHelper
    from gifdist.observability import LogLevel, ObservabilityStack
    from gifdist.sharelinks import ShareLinkGenerator

    # Initialize all modules with observability
    obs = ObservabilityStack(service_name="gif-distributor", min_log_level=LogLevel.INFO)
    generator = ShareLinkGenerator(base_url="https://gifdist.io")
    tracker = AnalyticsTracker()
    cdn = CDNHelper(secret_key="your-secret-key")

    # Start trace for the complete operation
    span = obs.start_trace("create_and_share_asset", asset_type="gif")

    try:
        # Create share link with logging
        obs.logger.info("Creating share link", asset_id="abc123")
        link_info = generator.create_share_link(
            asset_id="abc123def456", title="Funny Cat GIF", tags=["cat", "funny"]
        )
        obs.metrics.increment_counter("sharelinks.created", tags={"status": "success"})

        # Track initial view with timing
        with obs.metrics.time_operation("analytics.track_event"):
            tracker.track_event(
                asset_id="abc123def456",
                event_type=EventType.VIEW,
                platform=Platform.SLACK,
                short_code=link_info["short_code"],
            )

        # Create signed CDN URL
        signed_url = cdn.create_signed_asset_url(
            asset_url=link_info["canonical_url"], expiration_seconds=3600
        )
        obs.logger.info("Generated signed CDN URL", expires_in=3600)

        # Finish successfully
        obs.finish_span(span, status="success")

        # Get comprehensive metrics
        dashboard = obs.get_dashboard_data()
        print(
            f"Operation completed - Logs: {dashboard['logs']['total']}, "
            f"Active traces: {dashboard['traces']['active']}"
        )

    except Exception as e:
        obs.logger.error("Operation failed", error=str(e))
        obs.finish_span(span, status="error")
        raise

    assert signed_url.startswith("https://")
    assert "Operation completed - Logs: 4, Active traces: 0" in capsys.readouterr().out
    # Every log written inside the trace carries its ids.
    trace_logs = obs.logger.get_logs(trace_id=span.trace_id)
    assert len(trace_logs) == 4
    assert {entry.span_id for entry in trace_logs} == {span.span_id}
    assert obs.metrics.get_counter("sharelinks.created", tags={"status": "success"}) == 1.0
    assert obs.metrics.get_histogram_stats("analytics.track_event")["count"] == 1


# --- LogLevel ------------------------------------------------------------------------


def test_log_level_parses_names_case_insensitively() -> None:
    assert LogLevel("info") is LogLevel.INFO
    assert LogLevel(" Warning ") is LogLevel.WARNING
    assert LogLevel.ERROR.severity == logging.ERROR


def test_unknown_log_level_string_raises_value_error_listing_the_valid_levels() -> None:
    with pytest.raises(ValueError, match=r"unknown log level 'verbose'; expected one of DEBUG, "):
        LogLevel("verbose")
    with pytest.raises(ValueError, match="unknown log level 'loud'"):
        ObservabilityStack("svc", min_log_level="loud")


def test_min_log_level_may_be_given_as_a_string() -> None:
    logger = StructuredLogger("svc", "warning")
    logger.info("dropped")
    logger.warning("kept")
    assert [entry.message for entry in logger.get_logs()] == ["kept"]


# --- StructuredLogger --------------------------------------------------------------


@pytest.mark.parametrize("level", list(LogLevel))
def test_each_level_method_stores_a_structured_entry(level: LogLevel) -> None:
    logger = StructuredLogger("svc", LogLevel.DEBUG)
    getattr(logger, level.value.lower())("hello", asset_id="a1", attempt=2)
    [entry] = logger.get_logs()
    assert entry.level == level.value
    assert entry.message == "hello"
    assert entry.service == "svc"
    assert entry.metadata == {"asset_id": "a1", "attempt": 2}
    assert entry.trace_id is None and entry.span_id is None
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", entry.timestamp)


def test_messages_below_the_minimum_level_are_not_stored() -> None:
    logger = StructuredLogger("svc", LogLevel.ERROR)
    logger.debug("d")
    logger.info("i")
    logger.warning("w")
    logger.error("e")
    logger.critical("c")
    assert [entry.level for entry in logger.get_logs()] == ["ERROR", "CRITICAL"]


def test_log_entry_serialises_to_json_with_all_fields() -> None:
    logger = StructuredLogger("svc")
    logger.info("ünïcode ☃\nnext line", note='say "hi"')
    [entry] = logger.get_logs()
    decoded = json.loads(entry.to_json())
    assert decoded == entry.to_dict()
    assert decoded["message"] == "ünïcode ☃\nnext line"
    assert decoded["metadata"] == {"note": 'say "hi"'}
    assert set(decoded) == {
        "timestamp",
        "level",
        "message",
        "service",
        "trace_id",
        "span_id",
        "metadata",
    }


def test_non_json_metadata_is_stored_json_safe() -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<Opaque>"

    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no repr for you")

    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    logger = StructuredLogger("svc")
    logger.info(
        "odd metadata",
        obj=Opaque(),
        raw=b"\x00\xff",
        tags={"b", "a"},
        nested={1: (2, 3), "level": LogLevel.INFO},
        nan=float("nan"),
        hostile=Hostile(),
        cyclic=cyclic,
    )
    [entry] = logger.get_logs()
    json.dumps(entry.metadata, allow_nan=False)  # must not raise
    assert entry.metadata["obj"] == "<Opaque>"
    assert entry.metadata["raw"] == "b'\\x00\\xff'"
    assert entry.metadata["tags"] == ["a", "b"]
    assert entry.metadata["nested"] == {"1": [2, 3], "level": "INFO"}
    assert entry.metadata["nan"] == "nan"
    assert entry.metadata["hostile"] == "<unrepresentable Hostile>"
    assert entry.metadata["cyclic"][0] == 1
    json.loads(entry.to_json())


def test_json_safe_leaves_plain_values_alone() -> None:
    value = {"a": [1, 2.5, None, True, "x"]}
    assert json_safe(value) == value


def test_get_logs_filters_by_trace_id() -> None:
    tracer = Tracer()
    logger = StructuredLogger("svc")
    logger.info("outside")
    span = tracer.start_trace("op")
    logger.info("inside")
    tracer.finish_span(span)
    logger.info("after")
    [inside] = logger.get_logs(trace_id=span.trace_id)
    assert inside.message == "inside"
    assert (inside.trace_id, inside.span_id) == (span.trace_id, span.span_id)
    assert [entry.trace_id for entry in logger.get_logs()] == [None, span.trace_id, None]
    assert logger.get_logs(trace_id="0" * 32) == []


def test_clear_logs_empties_the_buffer() -> None:
    logger = StructuredLogger("svc")
    logger.info("one")
    logger.clear_logs()
    assert logger.get_logs() == []
    assert logger.summary() == {"total": 0, "by_level": {}, "dropped": 0}


def test_logs_are_a_ring_buffer_of_max_logs_entries() -> None:
    logger = StructuredLogger("svc", max_logs=5)
    for i in range(12):
        logger.info(f"m{i}")
    assert [entry.message for entry in logger.get_logs()] == [f"m{i}" for i in range(7, 12)]
    assert logger.summary() == {"total": 5, "by_level": {"INFO": 5}, "dropped": 7}


def test_invalid_max_logs_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_logs must be at least 1"):
        StructuredLogger("svc", max_logs=0)


def test_logs_are_forwarded_to_the_stdlib_gifdist_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = StructuredLogger("svc", LogLevel.DEBUG)
    with caplog.at_level(logging.DEBUG, logger="gifdist"):
        logger.warning("disk low", free_mb=12, blob=b"x")
        logger.debug("detail")
    records = [record for record in caplog.records if record.name == "gifdist"]
    assert [(record.levelno, record.getMessage()) for record in records] == [
        (logging.WARNING, "disk low"),
        (logging.DEBUG, "detail"),
    ]
    assert records[0].metadata == {"free_mb": 12, "blob": "b'x'"}  # type: ignore[attr-defined]
    assert records[0].service == "svc"  # type: ignore[attr-defined]


def test_percent_signs_in_messages_are_not_treated_as_format_strings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = StructuredLogger("svc")
    with caplog.at_level(logging.INFO, logger="gifdist"):
        logger.info("100% done %s %(x)s")
    assert caplog.records[-1].getMessage() == "100% done %s %(x)s"


# --- MetricsCollector: counters, gauges, histograms ---------------------------------


def test_counters_add_up_per_tag_set_regardless_of_tag_order() -> None:
    metrics = MetricsCollector()
    metrics.increment_counter("uploads")
    metrics.increment_counter("uploads", 2.5)
    metrics.increment_counter("uploads", tags={"a": "1", "b": "2"})
    metrics.increment_counter("uploads", tags={"b": "2", "a": "1"})
    assert metrics.get_counter("uploads") == 3.5
    assert metrics.get_counter("uploads", tags={"a": "1", "b": "2"}) == 2.0
    assert metrics.get_counter("uploads", tags={"a": "1"}) == 0.0
    assert metrics.get_counter("never") == 0.0


def test_counter_rejects_negative_non_finite_and_non_numeric_values() -> None:
    metrics = MetricsCollector()
    with pytest.raises(ValueError, match="must not be negative"):
        metrics.increment_counter("c", -1)
    with pytest.raises(ValueError, match="must be finite"):
        metrics.increment_counter("c", float("inf"))
    with pytest.raises(TypeError, match="must be a real number, got str"):
        metrics.increment_counter("c", "1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="metric name must be a str"):
        metrics.increment_counter(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tags must be a mapping"):
        metrics.increment_counter("c", tags=["a"])  # type: ignore[arg-type]
    assert metrics.get_counter("c") == 0.0


def test_gauges_keep_the_last_value_and_unknown_gauges_are_none() -> None:
    metrics = MetricsCollector()
    metrics.set_gauge("conns", 42)
    metrics.set_gauge("conns", -3.5)
    metrics.set_gauge("conns", 7, tags={"pool": "db"})
    assert metrics.get_gauge("conns") == -3.5
    assert metrics.get_gauge("conns", tags={"pool": "db"}) == 7.0
    assert metrics.get_gauge("missing") is None
    with pytest.raises(ValueError, match="gauge value must be finite"):
        metrics.set_gauge("conns", float("nan"))


def test_histogram_stats_are_exact_for_min_max_mean_and_count() -> None:
    metrics = MetricsCollector()
    for value in (10, 20, 30, 40, 1000):
        metrics.record_histogram("latency", value)
    stats = metrics.get_histogram_stats("latency")
    assert set(stats) == {"min", "max", "mean", "median", "p95", "p99", "count"}
    assert (stats["min"], stats["max"], stats["mean"], stats["count"]) == (10, 1000, 220, 5)
    assert relative_error(stats["median"], 30) <= ALPHA
    assert relative_error(stats["p95"], 40) <= ALPHA
    assert relative_error(stats["p99"], 40) <= ALPHA


def test_histogram_stats_of_an_unknown_histogram_are_empty() -> None:
    assert MetricsCollector().get_histogram_stats("nothing") == {}


def test_time_operation_records_milliseconds() -> None:
    metrics = MetricsCollector()
    with metrics.time_operation("sleep", tags={"kind": "test"}):
        time.sleep(0.02)
    stats = metrics.get_histogram_stats("sleep", tags={"kind": "test"})
    assert stats["count"] == 1
    assert 19 <= stats["min"] < 2000


def test_time_operation_records_even_when_the_block_raises() -> None:
    metrics = MetricsCollector()
    with pytest.raises(RuntimeError, match="boom"), metrics.time_operation("failing"):
        raise RuntimeError("boom")
    assert metrics.get_histogram_stats("failing")["count"] == 1


def test_get_all_metrics_groups_series_by_kind_and_name() -> None:
    metrics = MetricsCollector(max_series_per_metric=50)
    metrics.increment_counter("c", tags={"k": "v"})
    metrics.set_gauge("g", 5)
    metrics.record_histogram("h", 2.0)
    snapshot = metrics.get_all_metrics()
    assert snapshot["counters"] == {"c": [{"tags": {"k": "v"}, "value": 1.0}]}
    assert snapshot["gauges"] == {"g": [{"tags": {}, "value": 5.0}]}
    [histogram] = snapshot["histograms"]["h"]
    assert histogram["tags"] == {}
    assert histogram["stats"]["count"] == 1
    assert snapshot["cardinality"] == {"max_series_per_metric": 50, "dropped_series": {}}
    json.dumps(snapshot, allow_nan=False)


def test_clear_metrics_forgets_everything() -> None:
    metrics = MetricsCollector(max_series_per_metric=1)
    metrics.increment_counter("c", tags={"a": "1"})
    metrics.increment_counter("c", tags={"a": "2"})  # overflows
    metrics.set_gauge("g", 1)
    metrics.record_histogram("h", 1)
    metrics.clear_metrics()
    assert metrics.get_all_metrics() == {
        "counters": {},
        "gauges": {},
        "histograms": {},
        "cardinality": {"max_series_per_metric": 1, "dropped_series": {}},
    }


def test_hostile_metric_names_and_tag_values_are_stored_and_retrievable() -> None:
    metrics = MetricsCollector()
    name = 'weird name "quoted"\nnewline ☃ {x=y}'
    tags: dict[str, Any] = {"path": '/a b/"c"\n', "emoji": "🐱", "id": 12, "none": None}
    metrics.increment_counter(name, tags=tags)
    metrics.set_gauge(name, 1.5, tags=tags)
    metrics.record_histogram(name, 3.0, tags=tags)
    assert metrics.get_counter(name, tags=tags) == 1.0
    assert metrics.get_gauge(name, tags=tags) == 1.5
    assert metrics.get_histogram_stats(name, tags=tags)["count"] == 1
    # Non-string tag values are keyed by their str(); the snapshot is JSON-safe.
    assert metrics.get_counter(name, tags={**tags, "id": "12", "none": "None"}) == 1.0
    snapshot = metrics.get_all_metrics()
    assert snapshot["counters"][name][0]["tags"]["path"] == '/a b/"c"\n'
    json.loads(json.dumps(snapshot, ensure_ascii=False))


# --- MetricsCollector: cardinality cap ---------------------------------------------


def test_distinct_tag_sets_beyond_the_cap_go_to_one_overflow_series() -> None:
    metrics = MetricsCollector()  # default cap: 1,000 tag sets per metric name
    for i in range(1_000_000):  # a million distinct tag values
        metrics.increment_counter("requests", tags={"user": f"user-{i}"})
    snapshot = metrics.get_all_metrics()
    series = snapshot["counters"]["requests"]
    assert len(series) == 1_001  # the cap plus the overflow series
    assert metrics.get_counter("requests", tags={"user": "user-999"}) == 1.0
    assert metrics.get_counter("requests", tags={"user": "user-1000"}) == 0.0
    assert metrics.get_counter("requests", tags=OVERFLOW_TAGS) == 999_000
    assert metrics.get_counter(DROPPED_SERIES_METRIC) == 999_000
    assert snapshot["cardinality"] == {
        "max_series_per_metric": 1_000,
        "dropped_series": {"requests": 999_000},
    }
    assert sum(entry["value"] for entry in series) == 1_000_000


def test_existing_series_keep_counting_after_the_cap_is_reached() -> None:
    metrics = MetricsCollector(max_series_per_metric=2)
    for value in ("a", "b", "c", "a", "d", "b"):
        metrics.increment_counter("c", tags={"t": value})
    assert metrics.get_counter("c", tags={"t": "a"}) == 2
    assert metrics.get_counter("c", tags={"t": "b"}) == 2
    assert metrics.get_counter("c", tags=OVERFLOW_TAGS) == 2


def test_cardinality_cap_applies_to_gauges_and_histograms() -> None:
    metrics = MetricsCollector(max_series_per_metric=3)
    for i in range(10):
        metrics.set_gauge("g", i, tags={"i": str(i)})
        metrics.record_histogram("h", i + 1, tags={"i": str(i)})
    assert len(metrics.get_all_metrics()["gauges"]["g"]) == 4
    assert metrics.get_gauge("g", tags=OVERFLOW_TAGS) == 9
    assert metrics.get_histogram_stats("h", tags=OVERFLOW_TAGS)["count"] == 7
    assert metrics.get_counter(DROPPED_SERIES_METRIC) == 14
    assert metrics.get_all_metrics()["cardinality"]["dropped_series"] == {"g": 7, "h": 7}


def test_invalid_cardinality_cap_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_series_per_metric must be at least 1"):
        MetricsCollector(max_series_per_metric=0)


# --- MetricsCollector: thread safety -----------------------------------------------


def test_concurrent_increments_from_eight_threads_are_exact() -> None:
    metrics = MetricsCollector()
    barrier = threading.Barrier(8)

    def work(worker: int) -> None:
        barrier.wait()
        for i in range(10_000):
            metrics.increment_counter("hits")
            metrics.record_histogram("sizes", i + 1, tags={"worker": str(worker % 2)})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert metrics.get_counter("hits") == 80_000
    assert metrics.get_histogram_stats("sizes", tags={"worker": "0"})["count"] == 40_000
    assert metrics.get_histogram_stats("sizes", tags={"worker": "1"})["max"] == 10_000


# --- QuantileSketch ----------------------------------------------------------------


@pytest.mark.parametrize(
    "draw",
    [
        pytest.param(lambda r: r.lognormvariate(3, 2), id="lognormal"),
        pytest.param(lambda r: r.expovariate(1 / 250), id="exponential"),
        pytest.param(lambda r: r.uniform(1, 1000), id="uniform"),
    ],
)
def test_sketch_quantiles_are_within_one_percent_of_exact(draw: Any) -> None:
    rng = random.Random(20240501)
    samples = [draw(rng) for _ in range(100_000)]
    metrics = MetricsCollector()
    for value in samples:
        metrics.record_histogram("latency", value)
    stats = metrics.get_histogram_stats("latency")
    samples.sort()
    assert stats["count"] == 100_000
    assert stats["min"] == samples[0] and stats["max"] == samples[-1]
    assert stats["mean"] == pytest.approx(math.fsum(samples) / len(samples), rel=1e-9)
    for key, q in (("median", 0.5), ("p95", 0.95), ("p99", 0.99)):
        assert relative_error(stats[key], exact_quantile(samples, q)) <= ALPHA, key


def test_sketch_memory_stays_bounded_for_values_spanning_nine_decades() -> None:
    rng = random.Random(7)
    sketch = QuantileSketch()
    samples = [10 ** rng.uniform(-3, 6) for _ in range(100_000)]
    for value in samples:
        sketch.add(value)
    # ln(1e9) / ln(1.01 / 0.99) ~= 1,036 buckets, whatever the sample count.
    assert 1_000 < sketch.bucket_count < 2_000
    samples.sort()
    for q in (0.01, 0.5, 0.99):
        assert relative_error(sketch.quantile(q), exact_quantile(samples, q)) <= ALPHA


def test_sketch_collapses_smallest_buckets_beyond_max_buckets() -> None:
    sketch = QuantileSketch(max_buckets=100)
    samples = [10 ** (i / 1000) for i in range(-3000, 6000)]
    for value in samples:
        sketch.add(value)
    assert sketch.bucket_count == 100
    # High quantiles keep their accuracy; only the smallest magnitudes were merged.
    assert relative_error(sketch.quantile(0.99), exact_quantile(samples, 0.99)) <= ALPHA
    assert sketch.min == samples[0]


def test_sketch_handles_zero_and_negative_values() -> None:
    sketch = QuantileSketch()
    values = [-100.0, -10.0, 0.0, 0.0, 10.0, 100.0, 1000.0]
    for value in values:
        sketch.add(value)
    assert relative_error(sketch.quantile(0.0), -100.0) <= ALPHA
    assert relative_error(sketch.quantile(1 / 6), -10.0) <= ALPHA
    assert sketch.quantile(0.5) == 0.0
    assert relative_error(sketch.quantile(5 / 6), 100.0) <= ALPHA
    assert sketch.quantile(1.0) == 1000.0


def test_sketch_rejects_bad_settings_and_queries() -> None:
    with pytest.raises(ValueError, match="relative_accuracy must be in"):
        QuantileSketch(relative_accuracy=0)
    with pytest.raises(ValueError, match="max_buckets must be at least 1"):
        QuantileSketch(max_buckets=0)
    with pytest.raises(ValueError, match="empty sketch"):
        QuantileSketch().quantile(0.5)
    sketch = QuantileSketch()
    sketch.add(1.0)
    with pytest.raises(ValueError, match=r"quantile must be in \[0, 1\]"):
        sketch.quantile(1.5)


def test_sketch_survives_values_near_the_float_maximum() -> None:
    sketch = QuantileSketch()
    sketch.add(1.7e308)
    sketch.add(1e-300)  # below the indexable range: counted as zero
    assert sketch.quantile(1.0) == 1.7e308
    assert sketch.quantile(0.0) == 1e-300  # the zero bucket, clamped to the exact min


# --- Tracer and Span ---------------------------------------------------------------


def test_trace_and_span_ids_use_the_w3c_format() -> None:
    tracer = Tracer()
    roots = [tracer.start_trace(f"op{i}") for i in range(50)]
    assert all(TRACE_ID.match(span.trace_id) for span in roots)
    assert all(SPAN_ID.match(span.span_id) for span in roots)
    assert len({span.trace_id for span in roots}) == 50
    assert all(span.parent_span_id is None for span in roots)


def test_child_spans_share_the_trace_and_point_to_their_parent() -> None:
    tracer = Tracer()
    root = tracer.start_trace("request", tags={"route": "/upload"})
    child = tracer.start_span("db", root, tags={"table": "assets"})
    assert child.trace_id == root.trace_id
    assert child.parent_span_id == root.span_id
    assert child.span_id != root.span_id
    assert tracer.get_trace(root.trace_id) == [root, child]
    assert child.tags == {"table": "assets"}
    assert tracer.get_trace("f" * 32) == []


def test_start_span_requires_a_span_parent() -> None:
    with pytest.raises(TypeError, match="parent_span must be a Span, got str"):
        Tracer().start_span("db", "not-a-span")  # type: ignore[arg-type]


def test_finishing_a_span_records_status_and_duration_in_milliseconds() -> None:
    tracer = Tracer()
    span = tracer.start_trace("sleepy")
    assert span.status == "in_progress" and span.duration_ms is None
    time.sleep(0.02)
    assert tracer.finish_span(span, status="error") is True
    assert span.status == "error"
    assert span.duration_ms is not None and 19 <= span.duration_ms < 2000
    assert span.end_time == pytest.approx(span.start_time + span.duration_ms / 1000)


def test_finishing_a_span_twice_is_harmless() -> None:
    tracer = Tracer()
    span = tracer.start_trace("op")
    tracer.finish_span(span, status="success")
    duration = span.duration_ms
    assert tracer.finish_span(span, status="error") is False
    assert span.finish("error") is False
    assert (span.status, span.duration_ms) == ("success", duration)
    assert get_current_span() is None


def test_stack_finish_span_twice_logs_and_records_once() -> None:
    obs = ObservabilityStack("svc")
    span = obs.start_trace("op")
    obs.finish_span(span)
    obs.finish_span(span, status="error")
    finished = [e for e in obs.logger.get_logs() if e.message.startswith("Finished span")]
    assert len(finished) == 1
    assert finished[0].span_id == span.span_id
    assert finished[0].metadata["status"] == "success"
    assert obs.metrics.get_histogram_stats("span.duration", {"operation": "op"})["count"] == 1


def test_current_span_follows_start_and_finish() -> None:
    tracer = Tracer()
    assert get_current_span() is None
    root = tracer.start_trace("root")
    assert get_current_span() is root
    child = tracer.start_span("child", root)
    assert get_current_span() is child
    tracer.finish_span(child)
    assert get_current_span() is root
    tracer.finish_span(root)
    assert get_current_span() is None


def test_finishing_out_of_order_never_restores_a_finished_span() -> None:
    tracer = Tracer()
    root = tracer.start_trace("root")
    child = tracer.start_span("child", root)
    tracer.finish_span(root)
    assert get_current_span() is child
    tracer.finish_span(child)
    assert get_current_span() is None


def test_logs_carry_the_ids_of_the_current_span() -> None:
    obs = ObservabilityStack("svc")
    root = obs.start_trace("request")
    child = obs.tracer.start_span("db", root)
    obs.logger.info("querying")
    obs.tracer.finish_span(child)
    obs.logger.info("responding")
    obs.finish_span(root)
    obs.logger.info("idle")
    by_message = {entry.message: entry for entry in obs.logger.get_logs()}
    assert by_message["querying"].span_id == child.span_id
    assert by_message["responding"].span_id == root.span_id
    assert by_message["querying"].trace_id == root.trace_id
    assert by_message["idle"].trace_id is None


def test_current_span_does_not_leak_into_other_threads() -> None:
    obs = ObservabilityStack("svc")
    span = obs.start_trace("main-thread")
    thread = threading.Thread(target=obs.logger.info, args=("from worker",))
    thread.start()
    thread.join()
    obs.finish_span(span)
    [worker_entry] = [e for e in obs.logger.get_logs() if e.message == "from worker"]
    assert worker_entry.trace_id is None


def test_traces_are_a_ring_buffer_of_max_traces() -> None:
    tracer = Tracer(max_traces=3)
    spans = [tracer.start_trace(f"op{i}") for i in range(5)]
    for span in spans:
        tracer.finish_span(span)
    assert list(tracer.get_all_traces()) == [span.trace_id for span in spans[2:]]
    assert tracer.get_trace(spans[0].trace_id) == []
    assert tracer.summary() == {"total": 3, "active": 0, "evicted_traces": 2, "dropped_spans": 0}


def test_spans_beyond_max_spans_per_trace_are_not_stored() -> None:
    tracer = Tracer(max_spans_per_trace=3)
    root = tracer.start_trace("root")
    children = [tracer.start_span(f"c{i}", root) for i in range(5)]
    assert tracer.get_trace(root.trace_id) == [root, *children[:2]]
    assert tracer.summary()["dropped_spans"] == 3
    with pytest.raises(ValueError, match="must be at least 1"):
        Tracer(max_traces=0)


def test_get_all_traces_and_clear_traces() -> None:
    tracer = Tracer()
    first = tracer.start_trace("a")
    second = tracer.start_trace("b")
    child = tracer.start_span("b.1", second)
    assert tracer.get_all_traces() == {first.trace_id: [first], second.trace_id: [second, child]}
    assert tracer.summary()["active"] == 3
    tracer.clear_traces()
    assert tracer.get_all_traces() == {}
    assert tracer.summary() == {"total": 0, "active": 0, "evicted_traces": 0, "dropped_spans": 0}


def test_span_add_log_normalises_level_and_makes_fields_json_safe() -> None:
    span = Span(trace_id="1" * 32, span_id="2" * 16, parent_span_id=None, operation="op")
    span.add_log("checking", level="warning", blob=b"\x01", size=3)
    span.add_log("failed", level=LogLevel.ERROR)
    assert [(e["level"], e["message"]) for e in span.logs] == [
        ("WARNING", "checking"),
        ("ERROR", "failed"),
    ]
    assert span.logs[0]["blob"] == "b'\\x01'" and span.logs[0]["size"] == 3
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        span.add_log("x", level="LOUD")


def test_span_logs_are_bounded() -> None:
    span = Span(trace_id="1" * 32, span_id="2" * 16, parent_span_id=None, operation="op")
    for i in range(Span.MAX_LOGS + 5):
        span.add_log(f"event {i}")
    assert len(span.logs) == Span.MAX_LOGS
    assert span.dropped_logs == 5


def test_span_to_dict_is_json_serialisable_and_complete() -> None:
    tracer = Tracer()
    span = tracer.start_trace("op", tags={"obj": object(), "n": 1})
    span.add_log("hello", detail={"x"})
    tracer.finish_span(span)
    data = json.loads(json.dumps(span.to_dict(), allow_nan=False))
    assert set(data) == {
        "trace_id",
        "span_id",
        "parent_span_id",
        "operation",
        "start_time",
        "end_time",
        "duration_ms",
        "status",
        "tags",
        "logs",
        "dropped_logs",
    }
    assert data["status"] == "success"
    assert data["tags"]["n"] == 1 and data["tags"]["obj"].startswith("<object object at")
    assert data["logs"][0]["detail"] == ["x"]


# --- ObservabilityStack ------------------------------------------------------------


def test_dashboard_data_summarises_logs_metrics_and_traces() -> None:
    obs = ObservabilityStack("gif-api", min_log_level=LogLevel.WARNING, max_logs=2)
    obs.logger.warning("w1")
    obs.logger.error("e1")
    obs.logger.critical("c1")
    open_span = obs.start_trace("pending", tier="free")
    obs.metrics.increment_counter("x")
    dashboard = obs.get_dashboard_data()
    assert dashboard["service"] == "gif-api"
    assert dashboard["timestamp"].endswith("Z")
    assert dashboard["logs"] == {"total": 2, "by_level": {"ERROR": 1, "CRITICAL": 1}, "dropped": 1}
    assert dashboard["traces"]["total"] == 1 and dashboard["traces"]["active"] == 1
    assert dashboard["metrics"]["counters"]["x"] == [{"tags": {}, "value": 1.0}]
    assert dashboard["metrics"]["counters"]["traces.started"] == [{"tags": {}, "value": 1.0}]
    json.dumps(dashboard, allow_nan=False)
    obs.finish_span(open_span)
    assert obs.get_dashboard_data()["traces"]["active"] == 0


def test_stack_limits_are_passed_to_its_parts() -> None:
    obs = ObservabilityStack("svc", max_traces=2, max_series_per_metric=5, max_spans_per_trace=4)
    assert obs.tracer.max_traces == 2
    assert obs.tracer.max_spans_per_trace == 4
    assert obs.metrics.max_series_per_metric == 5
    assert obs.logger.min_level is LogLevel.INFO
