"""The running service: stores, domain objects and background workers, wired once.

``Service`` is built from ``Settings`` and shared by the web app and the CLI, so an
HTTP route and a CLI command for the same job call the same method here.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlparse

from gifdist.accounts.keys import ApiKey, KeyRing, Scope
from gifdist.analytics.beacons import Beacon
from gifdist.analytics.buffer import EventBuffer, RetentionTask
from gifdist.analytics.reports import StatsReporter
from gifdist.analytics.tracker import AnalyticsTracker, EventType, Platform
from gifdist.analytics.visitors import VisitorHasher
from gifdist.assets.model import (
    AssetMetadata,
    AssetRecord,
    AssetStatus,
    MetadataLimits,
    clean_metadata,
    is_valid_asset_id,
)
from gifdist.assets.uploads import UploadSink
from gifdist.caching.ttl import TTLCache
from gifdist.cdn.http import SignedURL
from gifdist.config import Settings
from gifdist.errors import (
    Conflict,
    Forbidden,
    GifdistError,
    InvalidInput,
    InvalidMedia,
    NotFound,
)
from gifdist.media.frames import sample_frames
from gifdist.media.gif import GifLimits, inspect_gif
from gifdist.observability.metrics import UploadOutcome, record_upload
from gifdist.observability.tracing import span
from gifdist.sharelinks.links import ShareLinkGenerator, is_valid_short_code
from gifdist.stores.analytics_sql import SqlAnalyticsStore
from gifdist.stores.assets_sql import SqlAssetStore
from gifdist.stores.blobs import BlobStore, open_blob_store
from gifdist.stores.database import create_database_engine
from gifdist.stores.keys_sql import SqlKeyStore
from gifdist.stores.links_sql import SqlShareLinkStore
from gifdist.stores.migrate import upgrade_database

log = logging.getLogger("gifdist.service")

_NEEDS_DATABASE: Any = object()  # a cache miss where only memory may be read

PLATFORM_VIAS = ("slack", "discord", "teams", "twitter", "facebook", "web", "other")


class BackgroundTask(Protocol):
    """A worker thread or flusher owned by the service (started and stopped with it)."""

    def start(self) -> None: ...
    def stop(self, timeout: float = 10.0) -> None: ...


@dataclass(frozen=True, slots=True)
class UploadResult:
    asset: AssetRecord
    created: bool


class Service:
    """Everything a gifdist process needs, built from one ``Settings``."""

    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = create_database_engine(settings.resolved_database_url)
        if migrate:
            upgrade_database(self.engine)
        self.blobs: BlobStore = open_blob_store(
            settings.resolved_storage_url, spool_dir=settings.data_dir / "spool"
        )
        self.secret_key = _load_secret_key(settings)
        self.signer = _make_signer(settings, self.secret_key)
        admin = settings.admin_key.get_secret_value() if settings.admin_key else None
        self.keys = KeyRing(SqlKeyStore(self.engine), admin_key=admin)
        self.assets = SqlAssetStore(self.engine)
        self.link_store = SqlShareLinkStore(self.engine)
        self.links = ShareLinkGenerator(settings.base_url, store=self.link_store)
        self.gif_limits = GifLimits(
            max_width=settings.max_gif_width,
            max_height=settings.max_gif_height,
            max_frames=settings.max_gif_frames,
            max_total_pixels=settings.max_gif_total_pixels,
        )
        self.metadata_limits = MetadataLimits(
            max_title_chars=settings.max_title_chars,
            max_description_chars=settings.max_description_chars,
            max_tags=settings.max_tags,
            max_tag_chars=settings.max_tag_chars,
        )
        self.link_cache: TTLCache[str, dict[str, Any]] = TTLCache(100_000, ttl=None)
        self.asset_cache: TTLCache[str, AssetRecord] = TTLCache(50_000, ttl=2.0)
        self.frame_cache: TTLCache[tuple[str, int], list[dict[str, Any]]] = TTLCache(64, ttl=600)
        self.on_asset_changed: list[Callable[[str], None]] = []
        self.moderator: Callable[[str], AssetRecord | None] | None = None
        self.background: list[BackgroundTask] = []
        self.closers: list[Callable[[], None]] = []
        self._started = False
        self.analytics_store = SqlAnalyticsStore(self.engine)
        self.tracker = AnalyticsTracker(self.analytics_store)
        self.stats = StatsReporter(self.analytics_store)
        self.events = EventBuffer(
            self.analytics_store,
            max_events=settings.analytics_buffer_events,
            batch_size=settings.analytics_batch_size,
            flush_interval=settings.analytics_flush_seconds,
            spill_path=settings.data_dir / "spill" / f"events-{os.getpid()}.jsonl",
        )
        self.background.append(self.events)  # started first, stopped (flushed) last
        if settings.analytics_retention_days:
            self.background.append(
                RetentionTask(self.analytics_store, days=settings.analytics_retention_days)
            )
        # (visitor, asset, event type) already counted: a reload storm is one play.
        self.counted_once: TTLCache[tuple[str, str, str], bool] = TTLCache(
            200_000, ttl=settings.analytics_dedupe_seconds
        )
        self.visitors = VisitorHasher(self.secret_key)
        self.moderation: Any = None
        self.review: Any = None
        self.dashboard: Any = None  # ServiceDashboard, set by the web app
        self.on_upload: list[Callable[[], None]] = []
        self.invalidator = None
        if settings.redis_url:
            from gifdist.caching.invalidation import RedisInvalidator

            self.invalidator = RedisInvalidator(settings.redis_url, self._forget_asset)
            self.background.append(self.invalidator)
        from gifdist.moderation.worker import install_moderation

        install_moderation(self)

    # lifecycle ------------------------------------------------------------

    def start_background(self) -> None:
        """Start workers and flushers (idempotent)."""
        if self._started:
            return
        self._started = True
        self.blobs.remove_stale_temporaries()
        for task in self.background:
            task.start()

    def stop_background(self, timeout: float = 10.0) -> None:
        """Stop workers, flushing what they hold (reverse start order)."""
        if not self._started:
            return
        self._started = False
        for task in reversed(self.background):
            task.stop(timeout)

    def check_dependencies(self) -> dict[str, str | None]:
        """Probe the database, the blob store and Redis (when configured); each maps to
        None (fine) or the problem."""
        checks: dict[str, str | None] = {}
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            checks["database"] = None
        except Exception as exc:  # any driver error means "not ready"
            checks["database"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        try:
            self.blobs.check()
            checks["blobs"] = None
        except OSError as exc:
            checks["blobs"] = f"{type(exc).__name__}: {exc}"
        if self.invalidator is not None:
            checks["redis"] = self.invalidator.check()
        return checks

    def close(self) -> None:
        """Stop background work and release connections (database, Redis)."""
        self.stop_background()
        for close in self.closers:
            close()
        self.engine.dispose()

    # uploads --------------------------------------------------------------

    def new_upload_sink(self) -> UploadSink:
        """A temp file in the blob store to stream one upload into."""
        handle, path = self.blobs.temp_file()
        return UploadSink(handle, path, self.settings.max_upload_bytes)

    def clean_metadata(self, title: Any, tags: Any, description: Any) -> AssetMetadata:
        return clean_metadata(title, tags, description, self.metadata_limits)

    def ingest_upload(
        self, sink: UploadSink, meta: AssetMetadata, owner: ApiKey | None
    ) -> UploadResult:
        """Validate, dedupe, store and queue moderation for a finished upload.

        The temp file is consumed (moved into the store or deleted) whatever happens.
        Raises ``InvalidMedia``/``UnsupportedMediaType`` for bad GIFs and
        ``InvalidMedia(code="content_rejected")`` for bytes moderation refused before.
        """
        try:
            with span("upload.ingest", size=sink.size):
                result = self._ingest(sink, meta, owner)
        except GifdistError:
            record_upload(UploadOutcome.REJECTED)
            raise
        record_upload(UploadOutcome.CREATED if result.created else UploadOutcome.DUPLICATE)
        return result

    def _ingest(self, sink: UploadSink, meta: AssetMetadata, owner: ApiKey | None) -> UploadResult:
        owner_id = owner.key_id if owner else None
        try:
            sha256 = sink.finish()
            if sink.size == 0:
                raise InvalidMedia("the uploaded file is empty", code="empty_file")
            if self.assets.is_rejected_hash(sha256):
                raise InvalidMedia(
                    "this file was rejected by moderation and cannot be uploaded again",
                    code="content_rejected",
                )
            existing = self.assets.get_for_owner(sha256, owner_id)
            if existing is not None:
                return UploadResult(existing, created=False)
            with span("upload.inspect_gif"):
                info = inspect_gif(sink.path, self.gif_limits)
            with span("storage.put", sha256=sha256):
                self.blobs.put_temp(sink.path, sha256)  # a no-op when the bytes are stored
        finally:
            sink.discard()
        return self._insert_asset(sha256, sink.size, info, meta, owner)

    def ingest_file(
        self, path: str | os.PathLike[str], meta: AssetMetadata, owner: ApiKey | None
    ) -> UploadResult:
        """Upload a local file (the CLI's path): copy it into the store, then ingest."""
        sink = self.new_upload_sink()
        try:
            with open(path, "rb") as handle:
                while block := handle.read(1024 * 1024):
                    sink.write(block)
        except BaseException:
            sink.discard()
            raise
        return self.ingest_upload(sink, meta, owner)

    def _insert_asset(
        self, sha256: str, size: int, info: Any, meta: AssetMetadata, owner: ApiKey | None
    ) -> UploadResult:
        moderated = self.settings.moderation != "off"
        status = AssetStatus.PENDING if moderated else AssetStatus.APPROVED
        record, created = self.assets.insert(
            candidate_ids=self._candidate_ids(sha256, owner.key_id if owner else None),
            sha256=sha256,
            size=size,
            info=info,
            meta=meta,
            status=status,
            owner_key_id=owner.key_id if owner else None,
            enqueue_moderation=moderated,
        )
        if created and self.settings.moderation == "sync" and self.moderator is not None:
            record = self.moderator(record.asset_id) or record
        elif created:
            for notify in self.on_upload:
                notify()
        return UploadResult(record, created)

    def _candidate_ids(self, sha256: str, owner_id: str | None) -> list[str]:
        """Ids for one owner's asset over these bytes, shortest first.

        Keyed by the secret key, the owner and the hash: knowing the bytes must not
        let anyone compute another owner's asset id (the seed's plain hash-based id
        would). Longer prefixes are tried if a shorter one is taken.
        """
        keyed = hmac.new(
            self.secret_key, f"asset:{owner_id or '-'}:{sha256}".encode(), hashlib.sha256
        ).hexdigest()
        first = self.settings.asset_id_length
        lengths = [first, *range(max(first + 4, 16), 65, 4)]
        ids = [self.links.generate_hash_based_id(keyed, length=n) for n in lengths]
        return list(dict.fromkeys(ids))

    # reads (cached for the hot paths) ---------------------------------------

    def get_asset(self, asset_id: str) -> AssetRecord | None:
        """The asset or None; malformed ids are never looked up."""
        if not is_valid_asset_id(asset_id):
            return None
        record = self.asset_cache.get(asset_id)
        if record is None:
            with span("db.get_asset", asset_id=asset_id):
                record = self.assets.get(asset_id)
            if record is not None:
                self.asset_cache.set(asset_id, record)
        return record

    def require_asset(self, asset_id: str) -> AssetRecord:
        record = self.get_asset(asset_id)
        if record is None:
            raise NotFound(f"no asset with id {asset_id!r}")
        return record

    def get_link(self, short_code: str) -> dict[str, Any] | None:
        """The link record (links never change, so cached without expiry)."""
        if not is_valid_short_code(short_code):
            return None
        link = self.link_cache.get(short_code)
        if link is None:
            with span("db.get_link", short_code=short_code):
                link = self.links.lookup_short_link(short_code)
            if link is not None:
                self.link_cache.set(short_code, link)
        return link

    def record_event(
        self,
        asset_id: str,
        event_type: EventType,
        platform: Platform,
        *,
        short_code: str | None = None,
        audience: str = "person",
        visitor: str | None = None,
    ) -> None:
        """Queue an analytics event (never blocks, never touches the database)."""
        self.events.offer(
            AnalyticsTracker.make_event(
                asset_id, event_type, platform, short_code, audience=audience, visitor=visitor
            )
        )

    def count_once(self, visitor: str | None, asset_id: str, event_type: EventType) -> bool:
        """True the first time a visitor does ``event_type`` to an asset in the dedupe window."""
        if visitor is None:
            return True
        key = (visitor, asset_id, event_type.value)
        if self.counted_once.get(key):
            return False
        self.counted_once.set(key, True)
        return True

    def record_beacon(
        self, beacon: Beacon, *, audience: str, visitor: str | None, cached_only: bool = False
    ) -> str | None:
        """Queue a client-reported event; returns counted, duplicate, not_counted or orphan.

        A beacon naming no public asset or link is kept as an ``orphan`` event (never
        counted); bots and crawlers are kept but not counted; a visitor's repeat of
        the same event within the dedupe window is dropped. With ``cached_only`` (the
        event loop), None means "the database is needed": call again in a thread.
        """
        link = None
        if beacon.short_code:
            link = self._cached_or_stored(
                self.link_cache, self.get_link, beacon.short_code, cached_only
            )
            if link is _NEEDS_DATABASE:
                return None
        asset_id = beacon.asset_id or (link["asset_id"] if link else None)
        record = None
        if asset_id:
            record = self._cached_or_stored(self.asset_cache, self.get_asset, asset_id, cached_only)
            if record is _NEEDS_DATABASE:
                return None
        known = record is not None and record.is_public
        if beacon.short_code and (link is None or link["asset_id"] != asset_id):
            known = False
        if not known:
            self.events.offer(
                AnalyticsTracker.make_event(
                    (asset_id or "-")[:64],
                    beacon.event_type,
                    beacon.platform,
                    (beacon.short_code or None) and beacon.short_code[:32],
                    timestamp=beacon.timestamp,
                    audience="orphan",
                    visitor=visitor,
                )
            )
            return "orphan"
        assert record is not None
        if audience == "person" and not self.count_once(
            visitor, record.asset_id, beacon.event_type
        ):
            return "duplicate"
        self.events.offer(
            AnalyticsTracker.make_event(
                record.asset_id,
                beacon.event_type,
                beacon.platform,
                beacon.short_code,
                timestamp=beacon.timestamp,
                audience=audience if audience == "person" else "crawler",
                visitor=visitor,
            )
        )
        return "counted" if audience == "person" else "not_counted"

    # who may see which stats ------------------------------------------------------

    def stats_scope(self, key: ApiKey | None) -> list[str] | None:
        """The assets whose stats ``key`` may see: None (all) for admins and local use."""
        if key is None or key.allows(Scope.ADMIN):
            return None
        return self.assets.ids_for_owner(key.key_id)

    def check_view_access(self, key: ApiKey | None, record: AssetRecord) -> None:
        """Anyone with a key sees public GIFs; a pending, flagged, rejected or private one
        only its uploader, moderators and admins."""
        if key is None or record.is_public or _may_manage(key, record):
            return
        if not key.allows(Scope.MODERATE):
            raise NotFound(f"no asset with id {record.asset_id!r}")

    def check_stats_access(self, key: ApiKey | None, record: AssetRecord) -> None:
        """Uploaders see their own GIFs' stats; admins see everyone's."""
        if key is not None and not _may_manage(key, record):
            raise Forbidden("only the uploader or an admin may see this GIF's stats")

    # frames for reviewers ---------------------------------------------------------

    def sampled_frames(self, asset_id: str, max_frames: int = 6) -> list[dict[str, Any]]:
        """The frames the visual scanner samples (first, last, scene changes, evenly
        spaced), as small PNGs: what a reviewer should look at. Cached per asset."""
        cached = self.frame_cache.get((asset_id, max_frames))
        if cached is not None:
            return cached
        record = self.require_asset(asset_id)
        path = self.blob_path(record)
        if path is None:
            raise NotFound("the bytes of this GIF are not on this node's disk")
        frames = []
        for frame in sample_frames(path, max_frames=max_frames):
            image = frame.image.copy()
            image.thumbnail((320, 320))
            out = io.BytesIO()
            image.save(out, "PNG", optimize=True)
            frames.append(
                {"index": frame.index, "reason": str(frame.reason), "png": out.getvalue()}
            )
        self.frame_cache.set((asset_id, max_frames), frames)
        return frames

    # private assets and signed URLs ---------------------------------------------

    def needs_signature(self, record: AssetRecord) -> bool:
        return record.private or self.settings.require_signed_urls

    def check_signature(self, path: str, query: str) -> str | None:
        """None when ``path?query`` carries a valid signature, else the reason it does not."""
        valid, reason = self.signer.validate_signed_url(f"http://signed{path}?{query}")
        return None if valid else (reason or "invalid signature")

    def set_private(self, asset_id: str, private: bool, owner: ApiKey | None) -> AssetRecord:
        """Mark an asset private (bytes and page only through signed URLs) or public."""
        record = self.require_asset(asset_id)
        if owner is not None and not _may_manage(owner, record):
            raise Forbidden("only the uploader or an admin may change this GIF")
        updated = self.assets.set_private(record.asset_id, private)
        self.asset_changed(record.asset_id)
        assert updated is not None
        return updated

    def signed_urls(self, asset_id: str, expires_in: int) -> dict[str, Any]:
        """Signed URLs for an asset's bytes and page, valid ``expires_in`` seconds."""
        limit = self.settings.signed_url_max_seconds
        if (
            isinstance(expires_in, bool)
            or not isinstance(expires_in, int)
            or not 0 < expires_in <= limit
        ):
            raise InvalidInput(
                f"expires_in must be between 1 and {limit} seconds", code="bad_expiry"
            )
        record = self.require_asset(asset_id)
        if record.status is not AssetStatus.APPROVED:
            raise Conflict(f"this GIF is {record.status.value}; only approved GIFs are served")
        base = f"{self.settings.base_url}/a/{record.asset_id}"
        gif = self.signer.generate_signed_url(base + ".gif", expires_in)
        page = self.signer.generate_signed_url(base, expires_in)
        expires = int(dict(parse_qsl(urlparse(gif).query))[SignedURL.EXPIRES])
        return {
            "asset_id": record.asset_id,
            "gif_url": gif,
            "page_url": page,
            "expires_at": datetime.fromtimestamp(expires, UTC).isoformat(),
            "key_id": self.signer.active_key_id,
        }

    @staticmethod
    def _cached_or_stored(
        cache: Any, lookup: Callable[[str], Any], key: str, cached_only: bool
    ) -> Any:
        if not cached_only:
            return lookup(key)
        found = cache.get(key)
        return _NEEDS_DATABASE if found is None else found

    def asset_changed(self, asset_id: str) -> None:
        """Drop cached state of an asset here and on every other node."""
        self._forget_asset(asset_id)
        if self.invalidator is not None:
            self.invalidator.publish(asset_id)

    def _forget_asset(self, asset_id: str) -> None:
        self.asset_cache.invalidate(asset_id)
        for callback in self.on_asset_changed:
            callback(asset_id)

    def blob_path(self, record: AssetRecord) -> str | None:
        return self.blobs.local_path(record.sha256)

    # links ------------------------------------------------------------------

    def create_link(
        self,
        asset_id: str,
        *,
        title: Any = None,
        tags: Any = None,
        via: str | None = None,
        owner: ApiKey | None = None,
    ) -> dict[str, Any]:
        """Create a short link for an existing asset; returns the API representation."""
        record = self.require_asset(asset_id)
        if via is not None:
            via = via.strip().lower()
            if via == "x":
                via = "twitter"
            if via not in PLATFORM_VIAS:
                raise InvalidInput(
                    f"unknown platform {via!r}; use one of {', '.join(PLATFORM_VIAS)}",
                    code="invalid_via",
                )
        meta = self.clean_metadata(
            title if title is not None else record.title,
            tags if tags is not None else list(record.tags),
            "",
        )
        created = self.links.create_share_link(
            record.asset_id,
            meta.title,
            list(meta.tags),
            via=via,
            created_by=owner.key_id if owner else None,
        )
        link = self.links.lookup_short_link(created["short_code"])
        assert link is not None
        return self.link_json(link)

    def link_json(self, link: dict[str, Any]) -> dict[str, Any]:
        code = link["short_code"]
        return {
            "short_code": code,
            "short_url": self.links.create_short_url(code),
            "canonical_url": link["canonical_url"],
            "asset_id": link["asset_id"],
            "title": link["title"],
            "tags": link["tags"],
            "via": link["via"],
            "created_at": link["created_at"],
        }

    # keys -------------------------------------------------------------------

    def ensure_initial_key(self) -> str | None:
        """Create an admin key when no key exists at all; returns its secret once."""
        if self.settings.admin_key or self.keys.store.count() > 0:
            return None
        secret, _ = self.keys.create("initial admin key", tuple(Scope))
        return secret


def _make_signer(settings: Settings, secret_key: bytes) -> SignedURL:
    """Signed-URL keys from settings, or one key derived from the secret key."""
    keys: dict[str, str | bytes] = {
        kid: value.get_secret_value() for kid, value in settings.signing_keys.items()
    }
    if not keys:
        keys = {"k1": hmac.new(secret_key, b"signed-urls", hashlib.sha256).digest()}
    active = settings.signing_key_id or list(keys)[-1]
    try:
        return SignedURL(keys, active_key_id=active, clock_skew=settings.signed_url_skew_seconds)
    except ValueError as exc:
        raise InvalidInput(f"signed-URL settings: {exc}", code="bad_settings") from None


def _load_secret_key(settings: Settings) -> bytes:
    """The configured secret, or one generated on first start and kept in the data dir."""
    if settings.secret_key:
        return settings.secret_key.get_secret_value().encode()
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        tmp = path.with_name(f".secret.key.{os.getpid()}")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic: the first process to start wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()


def _may_manage(key: ApiKey, record: AssetRecord) -> bool:
    return record.owner_key_id == key.key_id or key.allows(Scope.ADMIN)
