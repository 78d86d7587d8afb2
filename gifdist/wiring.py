"""The composition root: everything one gifdist process runs, built once from ``Settings``.

Stores come first (database, blobs), then the use cases over them, each given only
the parts it uses. The web app and the CLI both start here, so an HTTP route and a
CLI command for the same job call the same use case. Nothing here holds a product
rule; those live in the domain packages.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from gifdist.accounts.keys import KeyRing
from gifdist.accounts.oidc import OidcConfig, OidcSignIn
from gifdist.accounts.quotas import Quotas
from gifdist.accounts.signin import SignIn
from gifdist.accounts.users import Users
from gifdist.analytics.buffer import EventBuffer, RetentionTask
from gifdist.analytics.capture import EventCapture
from gifdist.analytics.edge import EdgeLogListener, EdgePlays
from gifdist.analytics.reports import StatsReporter
from gifdist.analytics.tracker import AnalyticsTracker, metrics_from_counts
from gifdist.analytics.visitors import VisitorHasher
from gifdist.assets.access import AccessPolicy
from gifdist.assets.catalog import AssetCatalog
from gifdist.assets.deletion import ContentRemover, DeleteFinisher
from gifdist.assets.editing import AssetEditor
from gifdist.assets.ingest import UploadRules, Uploads
from gifdist.assets.library import AssetLibrary
from gifdist.assets.model import AssetRecord, MetadataLimits
from gifdist.assets.owner_data import OwnerData
from gifdist.caching.invalidation import RedisInvalidator
from gifdist.cdn.purge import CachePurger
from gifdist.cdn.signed import SignedDelivery, make_signer
from gifdist.config import Settings
from gifdist.media.gif import DecodeSlots, GifLimits
from gifdist.media.rendition_store import rendition_url
from gifdist.media.rendition_worker import RenditionMaker, RenditionWorker, video_available
from gifdist.media.renditions import RenditionBudget
from gifdist.moderation.review_frames import ReviewFrames
from gifdist.moderation.setup import build_moderation
from gifdist.observability.metrics import record_cache_purge_failure, record_edge_log_line
from gifdist.periodic import PeriodicTask
from gifdist.ratelimit import LimitBackend, MemoryLimitBackend, RedisLimitBackend
from gifdist.search import (
    Analyzer,
    GifApiUsage,
    IndexBackfill,
    SearchCatalog,
    approved_pages,
)
from gifdist.search import Rendition as SearchRendition
from gifdist.sharelinks.links import ShareLinkGenerator
from gifdist.sharelinks.sharing import ShareLinks
from gifdist.stores.analytics_redis import RedisVisitorSketches
from gifdist.stores.analytics_sql import SqlAnalyticsStore
from gifdist.stores.assets_sql import SqlAssetStore, SqlDeleteJournal
from gifdist.stores.audit_sql import SqlAuditStore
from gifdist.stores.database import create_database_engine
from gifdist.stores.factory import open_blob_store
from gifdist.stores.gif_api_usage_sql import SqlUsageStore
from gifdist.stores.keys_sql import SqlKeyStore
from gifdist.stores.links_sql import SqlShareLinkStore
from gifdist.stores.migrate import upgrade_database
from gifdist.stores.moderation_queue_sql import SqlModerationQueue
from gifdist.stores.quotas_sql import SqlQuotaUsage
from gifdist.stores.renditions_sql import SqlRenditionStore
from gifdist.stores.reports_sql import SqlReportStore
from gifdist.stores.review_frames_sql import SqlReviewFrameStore
from gifdist.stores.search_sql import SqlSearchStore
from gifdist.stores.users_sql import SqlUserStore

log = logging.getLogger("gifdist.service")


class BackgroundTask(Protocol):
    """A worker thread or flusher owned by the service (started and stopped with it)."""

    def start(self) -> None: ...
    def stop(self, timeout: float = 10.0) -> None: ...


class Service:
    """The parts of one gifdist process, wired from one ``Settings``.

    Its public attributes are the stores and use cases; its methods are only the
    process's lifecycle. Background tasks start with ``start_background`` and stop
    (flushing what they hold) with ``stop_background``.
    """

    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        self.settings = settings
        _private_dir(settings.data_dir)
        if settings.database_url is None:
            _private_file(settings.data_dir / "gifdist.db")
        self.engine = create_database_engine(settings.resolved_database_url)
        if migrate:
            upgrade_database(self.engine)
        self.blobs = open_blob_store(
            settings.resolved_storage_url, spool_dir=settings.data_dir / "spool"
        )
        self.secret_key = _load_secret_key(settings)
        admin = settings.admin_key.get_secret_value() if settings.admin_key else None
        self.users = _users(settings, SqlUserStore(self.engine))
        self.keys = KeyRing(
            SqlKeyStore(self.engine), admin_key=admin, user_scopes=self.users.key_scopes
        )
        self.signin = SignIn(
            self.users.store,
            self.keys,
            _attempt_counters(settings),
            per_account=settings.signin_attempts_per_account,
            per_client=settings.signin_attempts_per_client,
        )
        self.oidc = _oidc(settings, self.users)
        self.assets = SqlAssetStore(self.engine)
        self.quotas = Quotas(
            self.users.store,
            SqlQuotaUsage(self.engine),
            max_bytes=settings.quota_bytes,
            max_uploads_per_day=settings.quota_uploads_per_day,
        )
        self.moderation_queue = SqlModerationQueue(self.engine)
        self.access = AccessPolicy(self.assets.ids_for_owner)
        self.background: list[BackgroundTask] = []
        self.invalidator = (
            RedisInvalidator(settings.redis_url, lambda asset_id: self.catalog.forget(asset_id))
            if settings.redis_url
            else None
        )
        self.catalog = AssetCatalog(
            self.assets,
            self.blobs,
            self.access,
            publish=self.invalidator.publish if self.invalidator else None,
        )
        self.signing = SignedDelivery(make_signer(settings, self.secret_key), self.access, settings)
        self.links = ShareLinkGenerator(settings.base_url, store=SqlShareLinkStore(self.engine))
        self.analytics_store = SqlAnalyticsStore(
            self.engine,
            raw_events=settings.analytics_raw_events,
            redis_sketches=RedisVisitorSketches(settings.redis_url) if settings.redis_url else None,
        )
        self.tracker = AnalyticsTracker(self.analytics_store)
        self.stats = StatsReporter(self.analytics_store)
        self.search = SearchCatalog(
            SqlSearchStore(self.engine),
            Analyzer(settings.search_language),
            lookup=self.assets.get,
            activity=self.analytics_store,
            cache_seconds=settings.search_cache_seconds,
        )
        self.gif_api_usage = GifApiUsage(SqlUsageStore(self.engine))
        self.background.append(self.gif_api_usage)
        self.catalog.subscribe(self.search.refresh_quietly)  # status, privacy, edits, deletes
        self.background.append(IndexBackfill(self.search, approved_pages(self.assets)))
        self.events = EventBuffer(
            self.analytics_store,
            max_events=settings.analytics_buffer_events,
            batch_size=settings.analytics_batch_size,
            flush_interval=settings.analytics_flush_seconds,
            spill_path=settings.data_dir / "spill" / f"events-{os.getpid()}.jsonl",
        )
        self.background.append(self.events)  # started first, stopped (flushed) last
        if settings.analytics_raw_events and settings.analytics_retention_days:
            self.background.append(
                RetentionTask(self.analytics_store, days=settings.analytics_retention_days)
            )
        self.decode_slots = DecodeSlots(settings.max_concurrent_decodes)
        self.frames = ReviewFrames(
            self.catalog, SqlReviewFrameStore(self.engine), self.decode_slots
        )
        moderation = build_moderation(
            settings,
            self.catalog,
            SqlAuditStore(self.engine),
            SqlReportStore(self.engine),
            self.moderation_queue,
            reporter_key=self.secret_key,
            frames=self.frames,
        )
        self.moderation = moderation.runner
        self.review = moderation.review
        self.background.extend(moderation.background)
        self.uploads = Uploads(
            self.assets,
            self.blobs,
            _upload_rules(settings),
            id_key=self.secret_key,
            moderate_now=moderation.runner.process if moderation.sync else None,
            on_queued=moderation.worker.notify if moderation.worker else None,
            decode_slots=self.decode_slots,
            on_created=self.catalog.changed,
            admit=self.quotas.admission,
        )
        self.sharing = ShareLinks(
            self.links,
            self.catalog,
            self.uploads.clean_metadata,
            check_text=moderation.check_text,
        )
        self.renditions = self._renditions(settings, moderation.runner.on_approved)
        self.visitors = VisitorHasher(self.secret_key)
        self.capture = EventCapture(
            self.events,
            self.visitors,
            assets=self.catalog,
            links=self.sharing,
            dedupe_seconds=settings.analytics_dedupe_seconds,
        )
        if settings.edge_log_listen:
            self.background.append(
                EdgeLogListener(
                    EdgePlays(self.capture, self.catalog.get),
                    settings.edge_log_listen,
                    settings.trusted_proxies,
                    on_line=record_edge_log_line,
                )
            )
        self.library = AssetLibrary(self.assets, self.access, self._metrics_for)
        self.deletes = DeleteFinisher(
            SqlDeleteJournal(self.engine),
            ContentRemover(
                SqlDeleteJournal(self.engine), self.blobs, self.renditions.delete_for_content
            ),
            erase_analytics=self.analytics_store.clear,
        )
        # deletes left unfinished; bytes an upload killed before its row left behind
        self.background.append(PeriodicTask("blob-sweep", 3600.0, self.deletes.repair))
        self.editor = AssetEditor(
            self.catalog,
            self.uploads.clean_metadata,
            check_text=moderation.check_text,
            forget_link=self.sharing.forget,
            finish_delete=self.deletes.finish,
        )
        self.owner_data = OwnerData(
            self.assets,
            self.blobs,
            self.links.store,
            self.sharing,
            self.editor,
            self._metrics_for,
            settings.base_url,
        )
        if self.invalidator is not None:
            self.background.append(self.invalidator)
        if settings.cache_purge_urls:
            purger = CachePurger(settings.cache_purge_urls, on_failure=record_cache_purge_failure)
            self.background.append(purger)
            self.catalog.subscribe(purger.asset_changed)
        self._started = False

    def _metrics_for(self, asset_ids: list[str]) -> dict[str, dict[str, Any]]:
        totals = self.analytics_store.asset_totals(asset_ids=asset_ids)
        return {i: metrics_from_counts(totals.get(i, Counter())) for i in asset_ids}

    def search_renditions(self, record: AssetRecord) -> list[SearchRendition]:
        """The renditions made of an asset's content, as search results describe them."""
        base = f"{self.settings.base_url}/a/{record.asset_id}"
        return [
            SearchRendition(
                kind,
                rendition_url(base, kind),
                item.width,
                item.height,
                item.bytes,
                item.content_type,
            )
            for kind, item in self.renditions.renditions(record.sha256).items()
        ]

    def _renditions(
        self, settings: Settings, on_moderation_approval: list[Callable[[str], None]]
    ) -> RenditionMaker:
        """The rendition maker always (reads, deletion, backfill); with renditions on
        and PyAV installed, the worker too, fed by every approval."""
        budget = RenditionBudget(
            max_seconds=settings.renditions_max_seconds,
            max_memory_bytes=settings.renditions_max_memory_mb * 1024 * 1024,
            max_frames=settings.max_gif_frames,
            max_total_pixels=settings.max_gif_total_pixels,
        )
        maker = RenditionMaker(SqlRenditionStore(self.engine), self.blobs, budget=budget)
        if settings.renditions == "off":
            return maker
        if not video_available():
            log.warning("renditions are on but PyAV is not installed: pip install 'gifdist[video]'")
            return maker
        worker = RenditionWorker(maker)
        self.background.append(worker)

        def approved(sha256: str) -> None:
            if maker.request(sha256):
                worker.notify()

        on_moderation_approval.append(approved)
        self.uploads.on_approved.append(approved)
        return maker

    def start_background(self) -> None:
        """Start workers and flushers (idempotent). If one cannot start, those already
        started are stopped again (flushing what they hold) before the error goes on."""
        if self._started:
            return
        self._started = True
        self.blobs.remove_stale_temporaries()
        self.deletes.finish_pending()  # a delete a crash interrupted
        started: list[BackgroundTask] = []
        try:
            for task in self.background:
                task.start()
                started.append(task)
        except BaseException:
            self._started = False
            for task in reversed(started):
                task.stop()
            raise

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
        self.engine.dispose()


def _users(settings: Settings, store: SqlUserStore) -> Users:
    return Users(
        store,
        signup=settings.signup,
        invite_ttl=timedelta(hours=settings.invite_hours),
        reset_ttl=timedelta(hours=settings.reset_link_hours),
    )


def _oidc(settings: Settings, users: Users) -> OidcSignIn | None:
    """Single sign-on, when an issuer, a client id and a secret are all configured."""
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        return None
    config = OidcConfig(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        redirect_uri=f"{settings.base_url}/signin/oidc/callback",
        create_users=settings.oidc_create_users,
    )
    return OidcSignIn(config, users)


def _attempt_counters(settings: Settings) -> LimitBackend:
    """Sign-in attempt counters: in Redis when configured (shared by every node)."""
    if settings.redis_url:
        return RedisLimitBackend.from_url(settings.redis_url, key_prefix="gifdist:si:")
    return MemoryLimitBackend()


def _upload_rules(settings: Settings) -> UploadRules:
    return UploadRules(
        max_upload_bytes=settings.max_upload_bytes,
        gif_limits=GifLimits(
            max_width=settings.max_gif_width,
            max_height=settings.max_gif_height,
            max_frames=settings.max_gif_frames,
            max_total_pixels=settings.max_gif_total_pixels,
        ),
        metadata_limits=MetadataLimits(
            max_title_chars=settings.max_title_chars,
            max_description_chars=settings.max_description_chars,
            max_tags=settings.max_tags,
            max_tag_chars=settings.max_tag_chars,
        ),
        moderated=settings.moderation != "off",
        asset_id_length=settings.asset_id_length,
    )


def _private_dir(path: Path) -> None:
    """The data directory, readable by this user only (it holds the secret key)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _private_file(path: Path) -> None:
    """Create ``path`` 0600 if it does not exist (SQLite then gives its WAL and
    shared-memory files the same mode); an existing file keeps its mode."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _load_secret_key(settings: Settings) -> bytes:
    """The configured secret, or one generated on first start and kept in the data dir."""
    if settings.secret_key:
        return settings.secret_key.get_secret_value().encode()
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        tmp = path.with_name(f".secret.key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # private from the start
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)  # atomic: the first process to start wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()
