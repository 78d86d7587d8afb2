"""The Python examples of the seed README (the public contract), verbatim except that
``from X import`` reads ``from gifdist.X import``. Keyed by the README's heading."""

from __future__ import annotations

EXAMPLES: dict[str, str] = {
    "Basic Example": """\
from gifdist.sharelinks import ShareLinkGenerator, create_asset_hash

# Initialize the generator
generator = ShareLinkGenerator(base_url="https://gifdist.io")

# Create a share link for an asset
link_info = generator.create_share_link(
    asset_id="abc123def456",
    title="Funny Cat GIF",
    tags=["cat", "funny", "pets"]
)

print(f"Short URL: {link_info['short_url']}")
print(f"Canonical URL: {link_info['canonical_url']}")
""",
    "Hash-Based Asset IDs": """\
# Generate hash-based ID for deduplication
file_hash = create_asset_hash("path/to/gif.gif")
asset_id = generator.generate_hash_based_id(file_hash)
""",
    "Resolving Short Links": """\
# Resolve a short code to get asset information
asset_info = generator.resolve_short_link("Ab12Cd34")
if asset_info:
    print(f"Asset ID: {asset_info['asset_id']}")
    print(f"Clicks: {asset_info['clicks']}")
""",
    "Integration: Share Links + Analytics": """\
from gifdist.sharelinks import ShareLinkGenerator
from gifdist.analytics import AnalyticsTracker, EventType, Platform

# Initialize both modules
generator = ShareLinkGenerator(base_url="https://gifdist.io")
tracker = AnalyticsTracker()

# Create a share link
link_info = generator.create_share_link(
    asset_id="abc123def456",
    title="Funny Cat GIF"
)

# Track analytics for the share link
tracker.track_event(
    asset_id="abc123def456",
    event_type=EventType.VIEW,
    platform=Platform.SLACK,
    short_code=link_info['short_code']
)

# Get metrics for the short link
short_link_metrics = tracker.get_short_link_metrics(link_info['short_code'])
print(f"Views: {short_link_metrics['views']}")
""",
    "Integration: Full Stack with Observability": """\
from gifdist.sharelinks import ShareLinkGenerator
from gifdist.analytics import AnalyticsTracker, EventType, Platform
from gifdist.cdn import CDNHelper, CachePolicy
from gifdist.observability import ObservabilityStack, LogLevel

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
        asset_id="abc123def456",
        title="Funny Cat GIF",
        tags=["cat", "funny"]
    )
    obs.metrics.increment_counter("sharelinks.created", tags={"status": "success"})

    # Track initial view with timing
    with obs.metrics.time_operation("analytics.track_event"):
        tracker.track_event(
            asset_id="abc123def456",
            event_type=EventType.VIEW,
            platform=Platform.SLACK,
            short_code=link_info['short_code']
        )

    # Create signed CDN URL
    signed_url = cdn.create_signed_asset_url(
        asset_url=link_info['canonical_url'],
        expiration_seconds=3600
    )
    obs.logger.info("Generated signed CDN URL", expires_in=3600)

    # Finish successfully
    obs.finish_span(span, status="success")

    # Get comprehensive metrics
    dashboard = obs.get_dashboard_data()
    print(f"Operation completed - Logs: {dashboard['logs']['total']}, "
          f"Active traces: {dashboard['traces']['active']}")

except Exception as e:
    obs.logger.error("Operation failed", error=str(e))
    obs.finish_span(span, status="error")
    raise
""",
    "CDN Configuration": """\
from gifdist.cdn import CDNHelper, CachePolicy

# Initialize CDN helper with secret key for signed URLs
cdn = CDNHelper(secret_key="your-secret-key")

# Get headers for asset delivery with caching
headers, range_spec, status_code = cdn.get_asset_headers(
    content_type="image/gif",
    content_length=1024000,
    is_immutable=True,
    cache_duration=CachePolicy.IMMUTABLE_CACHE,
    range_header="bytes=0-1023"  # Optional: for partial content
)

# Create signed URL with expiration
signed_url = cdn.create_signed_asset_url(
    asset_url="https://gifdist.io/a/abc123def456",
    expiration_seconds=3600
)

# Validate signed URL
is_valid, error = cdn.validate_asset_url(signed_url)
if is_valid:
    print("URL is valid")
else:
    print(f"Invalid URL: {error}")
""",
    "Analytics Tracking": """\
from gifdist.analytics import AnalyticsTracker, EventType, Platform

# Initialize the analytics tracker
tracker = AnalyticsTracker()

# Track events
tracker.track_event(
    asset_id="abc123def456",
    event_type=EventType.VIEW,
    platform=Platform.SLACK,
    short_code="Ab12Cd34"
)

tracker.track_event(
    asset_id="abc123def456",
    event_type=EventType.PLAY,
    platform=Platform.SLACK,
    short_code="Ab12Cd34"
)

# Get asset metrics
metrics = tracker.get_asset_metrics("abc123def456")
print(f"Views: {metrics['views']}")
print(f"Plays: {metrics['plays']}")
print(f"CTR: {metrics['ctr']}%")
print(f"Play Rate: {metrics['play_rate']}%")

# Get platform-specific metrics
platform_metrics = tracker.get_platform_metrics("abc123def456")
print(f"Slack metrics: {platform_metrics['slack']}")

# Get top performing assets
top_assets = tracker.get_top_assets(metric="ctr", limit=5)
for asset in top_assets:
    print(f"Asset {asset['asset_id']}: {asset['ctr']}% CTR")

# Get metrics for a specific short link
short_link_metrics = tracker.get_short_link_metrics("Ab12Cd34")
print(f"Short link views: {short_link_metrics['views']}")
print(f"Short link CTR: {short_link_metrics['ctr']}%")
""",
    "Rate Limiting": """\
from gifdist.ratelimit import RateLimiter, RateLimitConfig, RateLimitStrategy, RateLimitError

# Configure rate limiter with token bucket strategy
config = RateLimitConfig(
    requests_per_window=100,  # 100 requests
    window_seconds=60,        # per 60 seconds
    strategy=RateLimitStrategy.TOKEN_BUCKET
)

limiter = RateLimiter(config, enable_per_ip=True, enable_per_user=True)

# Check if request is allowed
allowed, retry_after = limiter.check_rate_limit(
    ip_address="192.168.1.100",
    user_id="user_12345"
)

if allowed:
    print("Request allowed")
else:
    print(f"Rate limited. Retry after {retry_after:.1f} seconds")

# Enforce rate limit (raises exception if exceeded)
try:
    limiter.enforce_rate_limit(ip_address="192.168.1.100", user_id="user_12345")
    # Process request
except RateLimitError as e:
    print(f"Blocked: {e}")

# Get remaining quota
quota = limiter.get_remaining_quota(ip_address="192.168.1.100", user_id="user_12345")
print(f"IP quota: {quota.get('ip', 0)}, User quota: {quota.get('user', 0)}")
""",
    "Observability": """\
from gifdist.observability import ObservabilityStack, LogLevel

# Initialize observability stack for your service
obs = ObservabilityStack(service_name="gif-api", min_log_level=LogLevel.INFO)

# Structured logging with trace context
obs.logger.info("Processing asset request", asset_id="abc123", user_id="user_789")
obs.logger.error("Upload failed", error="timeout", duration_ms=5000)

# Metrics collection
obs.metrics.increment_counter("asset.uploads", tags={"status": "success"})
obs.metrics.set_gauge("active_connections", 42)
obs.metrics.record_histogram("request.duration", 123.45, tags={"endpoint": "/upload"})

# Time operations automatically
with obs.metrics.time_operation("db_query", tags={"table": "assets"}):
    # Your database operation here
    pass

# Distributed tracing
span = obs.start_trace("handle_upload", asset_type="gif", user_tier="premium")
try:
    # Your operation here
    span.add_log("Validating asset")
    # ... more work ...
    obs.finish_span(span, status="success")
except Exception as e:
    span.add_log(f"Error: {e}", level="ERROR")
    obs.finish_span(span, status="error")

# Get dashboard data
dashboard = obs.get_dashboard_data()
print(f"Total logs: {dashboard['logs']['total']}")
print(f"Active traces: {dashboard['traces']['active']}")

# Query histogram statistics
stats = obs.metrics.get_histogram_stats("request.duration", tags={"endpoint": "/upload"})
print(f"p95: {stats['p95']}ms, p99: {stats['p99']}ms")
""",
    "AI Safety Scanning": """\
from gifdist.ai_safety_scanner import AISafetyPipeline

# Initialize AI safety pipeline with OpenAI API
pipeline = AISafetyPipeline(
    api_key="your-openai-api-key",  # Or set OPENAI_API_KEY env var
    enable_vision=True  # Enable vision scanning for visual content
)

# Scan upload with both text and visual analysis
scan_results = pipeline.scan_upload(
    file_path="uploads/cat.gif",
    title="Funny Cat GIF",
    tags=["cat", "funny", "pets"],
    description="A hilarious cat doing backflips"
)

# Check if content is safe
is_safe, violations, confidence = pipeline.is_safe(scan_results)

if is_safe:
    print(f"Content approved with {confidence:.0%} confidence")
    # Proceed with upload
else:
    print(f"Content rejected: {', '.join(violations)}")
    # Block upload

# Inspect individual scan results
if "text" in scan_results:
    text_result = scan_results["text"]
    print(f"Text scan: {'Safe' if text_result.is_safe else 'Unsafe'}")
    print(f"Confidence: {text_result.confidence:.0%}")
    if text_result.violations:
        print(f"Violations: {', '.join(text_result.violations)}")

if "visual" in scan_results:
    visual_result = scan_results["visual"]
    print(f"Visual scan: {'Safe' if visual_result.is_safe else 'Unsafe'}")
    print(f"Confidence: {visual_result.confidence:.0%}")
    print(f"Description: {visual_result.metadata.get('description', '')}")
""",
    "Content Moderation": """\
from gifdist.moderation import ModerationPipeline, ModerationDecision, ContentCategory

# Initialize moderation pipeline
pipeline = ModerationPipeline(
    strict_mode=True,              # Enable strict filtering
    auto_approve_threshold=0.95,   # Auto-approve above 95% confidence
    auto_reject_threshold=0.80,    # Auto-reject above 80% confidence
    enable_audit=True              # Enable audit trail
)

# Moderate content during upload
result = pipeline.moderate_content(
    asset_id="abc123def456",
    file_path="uploads/funny_cat.gif",
    file_hash="a1b2c3d4...",
    title="Funny Cat GIF",
    tags=["cat", "funny", "pets"],
    description="A hilarious cat doing backflips"
)

# Check moderation decision
if result.decision == ModerationDecision.APPROVED:
    print(f"Content approved with {result.confidence:.0%} confidence")
    # Proceed with upload
elif result.decision == ModerationDecision.REJECTED:
    print(f"Content rejected: {', '.join(result.reasons)}")
    # Block upload
elif result.decision == ModerationDecision.FLAGGED:
    print(f"Content flagged for manual review: {', '.join(result.reasons)}")
    # Queue for human review

# Manual review workflow
if result.decision == ModerationDecision.FLAGGED:
    # Human moderator reviews and makes decision
    audit_entry = pipeline.manual_review(
        asset_id="abc123def456",
        scan_id=result.scan_id,
        decision=ModerationDecision.APPROVED,
        reviewer_id="moderator_jane",
        notes="False positive - content is safe"
    )

# Get audit trail for compliance
audit_trail = pipeline.get_audit_trail(asset_id="abc123def456")
for entry in audit_trail:
    print(f"{entry.timestamp}: {entry.decision.value} by {entry.moderator}")

# Export audit trail for reporting
compliance_report = pipeline.export_audit_trail(
    start_time="2025-01-01T00:00:00",
    end_time="2025-12-31T23:59:59"
)

# Get moderation statistics
stats = pipeline.get_statistics()
print(f"Approval rate: {stats['approval_rate']:.1f}%")
print(f"Rejection rate: {stats['rejection_rate']:.1f}%")
print(f"Flag rate: {stats['flag_rate']:.1f}%")
""",
}
