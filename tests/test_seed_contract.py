"""The seed library's public contract through ``gifdist.<module>``.

For every seed module: its exported names import from ``gifdist.<module>``, and
every Python example of the seed README runs as written (``from X import`` read as
``from gifdist.X import``) and prints what it promises.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
from pathlib import Path

import pytest
from fake_openai import MODERATIONS, running_fake_openai
from gif_factory import make_gif
from seed_readme_examples import EXAMPLES

# What each seed module defines at top level (its public names), module by module.
SEED_EXPORTS: dict[str, tuple[str, ...]] = {
    "sharelinks": ("ShareLinkGenerator", "create_asset_hash"),
    "analytics": ("AnalyticsTracker", "EventType", "Platform"),
    "cdn": ("CDNHelper", "CachePolicy", "RangeRequest", "SignedURL"),
    "ratelimit": (
        "FixedWindow",
        "RateLimitConfig",
        "RateLimitError",
        "RateLimitStrategy",
        "RateLimiter",
        "SlidingWindow",
        "TokenBucket",
    ),
    "observability": (
        "LogEntry",
        "LogLevel",
        "Metric",
        "MetricType",
        "MetricsCollector",
        "ObservabilityStack",
        "Span",
        "StructuredLogger",
        "Timer",
        "Tracer",
    ),
    "ai_safety_scanner": (
        "AISafetyError",
        "AISafetyPipeline",
        "OpenAIModerationScanner",
        "OpenAIVisionScanner",
        "SafetyScanResult",
    ),
    "moderation": (
        "AuditEntry",
        "ContentCategory",
        "ContentScanner",
        "ModerationDecision",
        "ModerationError",
        "ModerationPipeline",
        "ModerationResult",
    ),
}


def run(example: str, namespace: dict[str, object] | None = None) -> str:
    """Execute one README example and return what it printed."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(
            compile(example, "seed-readme-example", "exec"),
            namespace if namespace is not None else {},
        )
    return output.getvalue()


@pytest.fixture(autouse=True)
def _in_a_scratch_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Examples open relative paths (``uploads/cat.gif``); OpenAI settings must not leak."""
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


# --- exported names -------------------------------------------------------------------


@pytest.mark.parametrize("module", sorted(SEED_EXPORTS))
def test_every_seed_name_imports_from_gifdist(module: str) -> None:
    names = ", ".join(SEED_EXPORTS[module])
    namespace: dict[str, object] = {}
    exec(f"from gifdist.{module} import {names}", namespace)
    imported = importlib.import_module(f"gifdist.{module}")
    for name in SEED_EXPORTS[module]:
        assert namespace[name] is getattr(imported, name)
        assert name in imported.__all__, f"gifdist.{module}.__all__ lacks {name}"


def test_the_readme_examples_cover_every_seed_module() -> None:
    imported = {
        match for code in EXAMPLES.values() for match in re.findall(r"from gifdist\.(\w+)", code)
    }
    assert imported == set(SEED_EXPORTS)


# --- sharelinks -----------------------------------------------------------------------


def test_sharelinks_examples_run_in_order(tmp_path: Path) -> None:
    (tmp_path / "path" / "to").mkdir(parents=True)
    make_gif(tmp_path / "path" / "to" / "gif.gif")
    namespace: dict[str, object] = {}
    printed = run(EXAMPLES["Basic Example"], namespace)
    assert re.search(r"^Short URL: https://gifdist\.io/s/\w{8}$", printed, re.M)
    assert "Canonical URL: https://gifdist.io/a/abc123def456" in printed
    run(EXAMPLES["Hash-Based Asset IDs"], namespace)
    assert isinstance(namespace["asset_id"], str) and namespace["asset_id"]
    assert run(EXAMPLES["Resolving Short Links"], namespace) == ""  # no such code


# --- analytics ------------------------------------------------------------------------


def test_share_links_and_analytics_example_counts_the_view() -> None:
    assert run(EXAMPLES["Integration: Share Links + Analytics"]) == "Views: 1\n"


def test_analytics_tracking_example_prints_the_seed_metrics() -> None:
    printed = run(EXAMPLES["Analytics Tracking"]).splitlines()
    assert printed == [
        "Views: 1",
        "Plays: 1",
        "CTR: 0.0%",
        "Play Rate: 100.0%",
        "Slack metrics: {'views': 1, 'plays': 1, 'clicks': 0, 'ctr': 0.0, 'play_rate': 100.0}",
        "Asset abc123def456: 0.0% CTR",
        "Short link views: 1",
        "Short link CTR: 0.0%",
    ]


def test_platform_metrics_name_only_platforms_with_events() -> None:
    from gifdist.analytics import AnalyticsTracker, EventType, Platform

    tracker = AnalyticsTracker()
    assert tracker.get_platform_metrics("abc") == {}
    tracker.track_event("abc", EventType.VIEW, Platform.DISCORD)
    tracker.track_event("abc", EventType.CLICK, Platform.TEAMS)
    assert list(tracker.get_platform_metrics("abc")) == ["discord", "teams"]


def test_short_link_metrics_have_the_seed_keys_and_the_links_asset() -> None:
    from gifdist.analytics import AnalyticsTracker, EventType

    tracker = AnalyticsTracker()
    empty = tracker.get_short_link_metrics("Zz99Yy88")
    assert "asset_id" not in empty
    assert {
        k: empty[k] for k in ("short_code", "views", "plays", "clicks", "ctr", "play_rate")
    } == {
        "short_code": "Zz99Yy88",
        "views": 0,
        "plays": 0,
        "clicks": 0,
        "ctr": 0.0,
        "play_rate": 0.0,
    }
    # A code the tracker never saw created still reports the asset its events name.
    tracker.track_event("abc", EventType.VIEW, short_code="Zz99Yy88")
    tracker.track_event("abc", EventType.CLICK, short_code="Zz99Yy88")
    metrics = tracker.get_short_link_metrics("Zz99Yy88")
    assert metrics["asset_id"] == "abc"
    assert (metrics["views"], metrics["clicks"], metrics["ctr"]) == (1, 1, 100.0)


# --- cdn ------------------------------------------------------------------------------


def test_cdn_configuration_example_validates_its_signed_url() -> None:
    assert run(EXAMPLES["CDN Configuration"]) == "URL is valid\n"


@pytest.mark.parametrize("call", ["create_signed_asset_url", "validate_asset_url"])
def test_cdn_helper_without_a_secret_key_raises_the_seed_error(call: str) -> None:
    from gifdist.cdn import CDNHelper

    with pytest.raises(ValueError) as caught:
        getattr(CDNHelper(), call)("https://gifdist.io/a/abc123def456")
    assert str(caught.value) == (
        "Signed URL handler not configured. Provide secret_key during initialization."
    )


# --- observability --------------------------------------------------------------------


def test_full_stack_example_completes_with_no_active_trace() -> None:
    printed = run(EXAMPLES["Integration: Full Stack with Observability"])
    assert re.fullmatch(r"Operation completed - Logs: \d+, Active traces: 0\n", printed)


def test_observability_example_prints_logs_traces_and_percentiles() -> None:
    printed = run(EXAMPLES["Observability"])
    assert re.search(r"^Total logs: [1-9]\d*$", printed, re.M)
    assert "Active traces: 0" in printed
    p95 = re.search(r"^p95: ([\d.]+)ms, p99: ([\d.]+)ms$", printed, re.M)
    assert p95 is not None
    assert float(p95.group(1)) == pytest.approx(123.45, rel=0.01)  # the sketch's accuracy


def test_metric_type_metric_and_timer_are_the_seeds() -> None:
    from gifdist.observability import Metric, MetricsCollector, MetricType, Timer

    assert {t.name: t.value for t in MetricType} == {
        "COUNTER": "counter",
        "GAUGE": "gauge",
        "HISTOGRAM": "histogram",
        "TIMER": "timer",
    }
    metric = Metric("uploads", 2.0, MetricType.COUNTER.value, "2026-12-01T00:00:00Z")
    assert metric.to_dict() == {
        "name": "uploads",
        "value": 2.0,
        "metric_type": "counter",
        "timestamp": "2026-12-01T00:00:00Z",
        "tags": {},
    }
    with pytest.raises(ValueError):
        Metric("uploads", 1.0, "speedometer", "2026-12-01T00:00:00Z")
    collector = MetricsCollector()
    timer = collector.time_operation("db", tags={"table": "assets"})
    assert isinstance(timer, Timer)
    assert (timer.collector, timer.name, timer.tags) == (collector, "db", {"table": "assets"})
    with timer as entered:
        assert entered is timer and timer.start_time is not None
    assert collector.get_histogram_stats("db", tags={"table": "assets"})["count"] == 1
    with Timer(collector, "direct", {}):
        pass
    assert collector.get_histogram_stats("direct")["count"] == 1


# --- ratelimit ------------------------------------------------------------------------


def test_rate_limiting_example_allows_and_reports_quota() -> None:
    assert run(EXAMPLES["Rate Limiting"]).splitlines() == [
        "Request allowed",
        "IP quota: 98, User quota: 98",
    ]


# --- ai_safety_scanner ----------------------------------------------------------------


def test_ai_safety_example_runs_against_the_openai_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "uploads").mkdir()
    make_gif(tmp_path / "uploads" / "cat.gif", frames=4)
    with running_fake_openai() as (base_url, controller):
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        printed = run(EXAMPLES["AI Safety Scanning"])
    assert "Content approved with 100% confidence" in printed
    assert "Text scan: Safe" in printed and "Visual scan: Safe" in printed
    assert controller.requests(MODERATIONS)[0].headers["authorization"] == (
        "Bearer your-openai-api-key"
    )


# --- moderation -----------------------------------------------------------------------


def test_content_moderation_example_decides_reviews_and_reports(tmp_path: Path) -> None:
    (tmp_path / "uploads").mkdir()
    make_gif(tmp_path / "uploads" / "funny_cat.gif", frames=3)
    printed = run(EXAMPLES["Content Moderation"])
    first = printed.splitlines()[0]
    assert first.startswith(("Content approved with", "Content flagged for manual review"))
    assert re.search(r"^Approval rate: \d+\.\d%$", printed, re.M)
    assert re.search(r"^Flag rate: \d+\.\d%$", printed, re.M)
    assert re.search(r": (approved|flagged) by system$", printed, re.M)


def test_content_scanner_keeps_the_seed_term_sets_and_confidences() -> None:
    from gifdist.moderation import ContentCategory, ContentScanner

    scanner = ContentScanner(use_local_visual=False)
    for name in ("nsfw_keywords", "violence_keywords", "hate_keywords"):
        assert isinstance(getattr(scanner, name), set) and getattr(scanner, name)
    assert "porn" in scanner.nsfw_keywords
    category, confidence, reasons = scanner.scan_metadata(title="porn clip")
    assert (category, confidence) == (ContentCategory.NSFW, 0.95)
    assert "NSFW" in reasons[0]
    assert scanner.scan_metadata(tags=["gore"])[:2] == (ContentCategory.GRAPHIC_VIOLENCE, 0.90)
    assert scanner.scan_metadata(description="nazi")[:2] == (ContentCategory.HATE_SPEECH, 0.95)
    assert scanner.scan_metadata(title="Funny Cat GIF") == (
        ContentCategory.SAFE,
        0.99,
        ["No policy violations detected"],
    )


def test_content_scanner_term_sets_are_live() -> None:
    from gifdist.moderation import ContentCategory, ContentScanner

    scanner = ContentScanner(use_local_visual=False)
    assert scanner.scan_metadata(title="zorblax")[0] is ContentCategory.SAFE
    scanner.violence_keywords.add("zorblax")
    assert scanner.scan_metadata(title="zorblax")[0] is ContentCategory.GRAPHIC_VIOLENCE
    scanner.violence_keywords.discard("zorblax")
    assert scanner.scan_metadata(title="zorblax")[0] is ContentCategory.SAFE
