"""The relational schema, shared by SQLite and PostgreSQL.

Alembic migrations under ``gifdist/migrations`` create exactly these tables; a test
checks that the migrated database and this metadata agree. Times are stored as
timezone-aware datetimes except in the analytics tables, which use integer epoch
milliseconds (events) and epoch hours (rollups) so bucketing is plain arithmetic
on both databases.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("scopes", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    # the user the key belongs to; NULL for operator keys
    Column("user_id", String(32), nullable=True, index=True),
)

# People. ``username`` is the NFKC, case-folded form; ``session_epoch`` turns on every
# change that must end the user's sessions (password, role, disable).
users = Table(
    "users",
    metadata,
    Column("user_id", String(32), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    Column("session_epoch", String(32), nullable=False),
    Column("totp_secret", String(64), nullable=True),
    Column("totp_last_step", BigInteger, nullable=True),
    Column("email", String(320), nullable=True, index=True),
    Column("oidc_subject", String(255), nullable=True, unique=True),
    Column("quota_bytes", BigInteger, nullable=True),
    Column("quota_uploads_per_day", Integer, nullable=True),
)

# One-time invite and password-reset links, by the hash of their token.
account_tokens = Table(
    "account_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("role", String(16), nullable=True),
    Column("user_id", String(32), nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
)

# Content: bytes by SHA-256, stored, scanned and converted once whoever uploads them.
contents = Table(
    "contents",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("bytes", BigInteger, nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("frames", Integer, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("visual_verdict", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Assets: one owner's item over a content (its own id, text, privacy and status).
assets = Table(
    "assets",
    metadata,
    Column("asset_id", String(64), primary_key=True),
    Column("sha256", String(64), ForeignKey("contents.sha256"), nullable=False, index=True),
    Column("title", Text, nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("tags", JSON, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("private", Boolean, nullable=False, default=False),
    Column("owner_key_id", String(32), nullable=True, index=True),
    Column("moderation", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("owner_key_id", "sha256", name="uq_assets_owner_sha256"),
)

# What was deleted, so its URLs answer 410 Gone: ids, hash, who and when, no metadata.
tombstones = Table(
    "tombstones",
    metadata,
    Column("kind", String(8), primary_key=True),  # asset | link
    Column("key", String(64), primary_key=True),
    Column("sha256", String(64), nullable=True),
    Column("owner_key_id", String(32), nullable=True),
    Column("deleted_by", String(64), nullable=True),
    Column("deleted_at", DateTime(timezone=True), nullable=False),
)

# A delete's steps after its transaction (erase analytics; remove the bytes when
# ``sha256`` is set): written with the delete, removed once they are done, so the next
# start finishes a delete a crash interrupted.
pending_deletes = Table(
    "pending_deletes",
    metadata,
    Column("asset_id", String(64), primary_key=True),
    Column("sha256", String(64), nullable=True),
    Column("queued_at", DateTime(timezone=True), nullable=False),
)

# Bytes one process (``claimed_by`` = host:pid) is removing right now, one at a time
# per content; a claim of a dead process on this host, or one older than a few
# minutes, is a crashed remover's and is taken over.
blob_removals = Table(
    "blob_removals",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("claimed_by", String(128), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
)

share_links = Table(
    "share_links",
    metadata,
    Column("short_code", String(64), primary_key=True),
    Column(
        "asset_id",
        String(64),
        ForeignKey("assets.asset_id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    Column("canonical_url", Text, nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("tags", JSON, nullable=False),
    Column("via", String(16), nullable=True),
    Column("clicks", BigInteger, nullable=False, default=0),
    Column("created_by", String(32), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # a custom slug, case-folded: unique whatever its case
    Column("slug_key", String(64), nullable=True, unique=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("max_clicks", BigInteger, nullable=True),  # people's clicks; bots never count
    Column("password_hash", String(200), nullable=True),  # argon2id; never shown
)

moderation_jobs = Table(
    "moderation_jobs",
    metadata,
    Column("asset_id", String(64), primary_key=True),
    Column("state", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

rejected_hashes = Table(
    "rejected_hashes",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("asset_id", String(64), nullable=False),
    Column("rejected_at", DateTime(timezone=True), nullable=False),
)

asset_reports = Table(
    "asset_reports",
    metadata,
    Column("report_id", Integer, primary_key=True, autoincrement=True),
    Column("asset_id", String(64), nullable=False, index=True),
    Column("reason", Text, nullable=False, default=""),
    Column("reporter_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("asset_id", "reporter_hash", name="uq_asset_reports_asset_reporter"),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("entry_id", String(64), nullable=False, unique=True),
    Column("timestamp", DateTime(timezone=True), nullable=False, index=True),
    Column("asset_id", String(64), nullable=False, index=True),
    Column("scan_id", String(64), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("moderator", String(200), nullable=False),
    Column("category", String(32), nullable=True),
    Column("confidence", Float, nullable=True),
    Column("reasons", JSON, nullable=False),
    Column("notes", Text, nullable=False, default=""),
    Column("metadata", JSON, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
)

analytics_events = Table(
    "analytics_events",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("ts_ms", BigInteger, nullable=False),
    Column("asset_id", String(64), nullable=False),
    Column("short_code", String(64), nullable=True),
    Column("platform", String(16), nullable=False),
    Column("event_type", String(8), nullable=False),
    Column("audience", String(8), nullable=False, default="person"),
    Column("visitor", String(32), nullable=True),
    Column("metadata", JSON, nullable=True),
    Index("ix_analytics_events_asset_ts", "asset_id", "ts_ms"),
    Index("ix_analytics_events_ts", "ts_ms"),
)

analytics_rollups = Table(
    "analytics_rollups",
    metadata,
    Column("hour", BigInteger, primary_key=True),
    Column("asset_id", String(64), primary_key=True),
    Column("short_code", String(64), primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("event_type", String(8), primary_key=True),
    Column("audience", String(8), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Index("ix_analytics_rollups_asset", "asset_id", "hour"),
    Index("ix_analytics_rollups_short_code", "short_code", "hour"),
)

# All-time counts per asset (counted audiences only): top-N reads one row per asset
# and event type instead of aggregating every hourly rollup.
analytics_totals = Table(
    "analytics_totals",
    metadata,
    Column("asset_id", String(64), primary_key=True),
    Column("event_type", String(8), primary_key=True),
    Column("count", BigInteger, nullable=False),
)

# The rollups without the link, per UTC day (epoch day): asset reports read whole days
# here and only the hours at a window's edges from the rollups.
analytics_asset_days = Table(
    "analytics_asset_days",
    metadata,
    Column("asset_id", String(64), primary_key=True),
    Column("day", BigInteger, primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("event_type", String(8), primary_key=True),
    Column("audience", String(8), primary_key=True),
    Column("count", BigInteger, nullable=False),
)

# Counted events (people and bots) per asset, hour and event type: an asset's series.
analytics_asset_hours = Table(
    "analytics_asset_hours",
    metadata,
    Column("asset_id", String(64), primary_key=True),
    Column("hour", BigInteger, primary_key=True),
    Column("event_type", String(8), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Index("ix_analytics_asset_hours_hour", "hour"),
)

# Unique visitors: a HyperLogLog sketch (gifdist.analytics.sketches) of the visitor ids
# per UTC day (epoch day), asset, link ('' for none), event type and counted audience.
analytics_visitor_sketches = Table(
    "analytics_visitor_sketches",
    metadata,
    Column("day", BigInteger, primary_key=True),
    Column("asset_id", String(64), primary_key=True),
    Column("short_code", String(64), primary_key=True),
    Column("event_type", String(8), primary_key=True),
    Column("audience", String(8), primary_key=True),
    Column("sketch", LargeBinary, nullable=False),
    Index("ix_analytics_visitor_sketches_asset", "asset_id", "day"),
    Index("ix_analytics_visitor_sketches_short_code", "short_code", "day"),
)

# Renditions of a content (MP4, WebP, stills, tiny versions), keyed by the content's
# sha256 and the kind; each is itself a content-addressed blob (blob_sha256).
renditions = Table(
    "renditions",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("blob_sha256", String(64), nullable=False, index=True),
    Column("content_type", String(64), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# One conversion job per content: claimed through the database like moderation jobs,
# retried with backoff (not before next_attempt_at) and parked as failed at the end.
rendition_jobs = Table(
    "rendition_jobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("state", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Browser sessions, server side: a cookie names one row (by the SHA-256 of its random
# id), so signing out deletes the row and the cookie stops working everywhere at once.
# key_version ties the row to the key as it was at sign-in (rotation ends it).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("key_id", String(32), nullable=False),
    Column("key_version", String(64), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_web_sessions_key", "key_id"),
    Index("ix_web_sessions_expires", "expires_at"),
)

# The frames a reviewer looks at, rendered once per content when it is scanned (PNG
# thumbnails), so review pages never decode GIFs.
review_frames = Table(
    "review_frames",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("frame_index", Integer, primary_key=True),
    Column("reason", String(16), nullable=False),
    Column("png", LargeBinary, nullable=False),
)

# The search index: one row per public GIF with its analysed terms (space-separated).
# SQLite indexes the terms in the FTS5 table ``search_fts`` (rowid = doc_id; columns
# title_terms, tag_terms, terms);
# PostgreSQL in a GIN index over ``array_to_tsvector(string_to_array(terms, ' '))``.
# Both are created by migration 0007 (they are dialect-specific, so not declared here).
search_documents = Table(
    "search_documents",
    metadata,
    # SearchDocument.key: newest first is doc_id descending (rowid in FTS5).
    Column(
        "doc_id",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("asset_id", String(64), nullable=False, unique=True),
    Column("title", Text, nullable=False, default=""),
    Column("tags", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("language", String(32), nullable=False),
    Column("title_terms", Text, nullable=False, default=""),
    Column("tag_terms", Text, nullable=False, default=""),
    Column("terms", Text, nullable=False, default=""),
)

# Tags of indexed GIFs, one row each, for categories, autocomplete and related tags.
search_tags = Table(
    "search_tags",
    metadata,
    Column("asset_id", String(64), primary_key=True),
    Column("tag_key", Text, primary_key=True),
    Column("tag", Text, nullable=False),
    Index("ix_search_tags_tag_key", "tag_key"),
)

# GIF API clients' calls per day (gifdist.search GifApiUsage): searches, impressions
# and shares per calling key, client_key and platform, written as deltas.
gif_api_usage = Table(
    "gif_api_usage",
    metadata,
    Column("day", Date, primary_key=True),
    Column("api", String(8), primary_key=True),
    Column("key_id", String(64), primary_key=True),
    Column("client_key", String(64), primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("searches", BigInteger, nullable=False, default=0),
    Column("impressions", BigInteger, nullable=False, default=0),
    Column("shares", BigInteger, nullable=False, default=0),
    Index("ix_gif_api_usage_key_day", "key_id", "day"),
)
