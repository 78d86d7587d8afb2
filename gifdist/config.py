"""The one settings object for the service and the CLI.

Built once at start-up from ``GIFDIST_*`` environment variables (and an optional
``.env`` file) and passed down; no other module reads the environment. Every
secret may also come from ``GIFDIST_<NAME>_FILE``, a path whose contents are the
value (for container secrets).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024

_SECRET_FIELDS = ("admin_key", "secret_key", "openai_api_key")


class Settings(BaseSettings):
    """Every setting gifdist understands, with its default and meaning."""

    model_config = SettingsConfigDict(
        env_prefix="GIFDIST_",
        env_file=".env",
        extra="ignore",
        validate_default=True,
        populate_by_name=True,  # aliased settings (OTEL_*, PROMETHEUS_*) also take their name
    )

    data_dir: Path = Field(
        Path("./gifdist-data"),
        description="Directory for the SQLite database, blobs and the generated secret key.",
    )
    base_url: str = Field(
        "http://127.0.0.1:8000",
        description="Public URL of the service; used in canonical URLs and short links.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL. Default: SQLite file gifdist.db in the data directory. "
        "postgresql://user@host/db selects PostgreSQL.",
    )
    storage_url: str | None = Field(
        None, description="Blob store URL. Default: file://<data_dir>/blobs."
    )
    redis_url: str | None = Field(
        None, description="redis://host:port/db for shared rate limits and cache invalidation."
    )
    admin_key: SecretStr | None = Field(
        None,
        description="An API key with every scope, accepted in addition to stored keys "
        "(for containers and tests).",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Secret for signed URLs and session cookies. Default: generated once "
        "and kept in <data_dir>/secret.key.",
    )
    host: str = Field("127.0.0.1", description="Address `gifdist serve` binds to.")
    port: int = Field(8000, ge=0, le=65535, description="Port `gifdist serve` binds to.")
    server: Literal["granian", "uvicorn"] = Field(
        "granian",
        description="ASGI server used by `gifdist serve`. For the CLI's commands that can "
        "talk to a running gifdist, an http(s) URL here names that server instead (and "
        "`serve` keeps granian).",
    )
    workers: int = Field(1, ge=1, le=64, description="Server worker processes.")
    max_upload_bytes: int = Field(20 * MB, gt=0, description="Largest accepted upload body.")
    max_gif_width: int = Field(4096, gt=0, description="Largest accepted GIF width in pixels.")
    max_gif_height: int = Field(4096, gt=0, description="Largest accepted GIF height in pixels.")
    max_gif_frames: int = Field(2000, gt=0, description="Most frames accepted in one GIF.")
    max_gif_total_pixels: int = Field(
        100_000_000,
        gt=0,
        description="Largest width × height × frames accepted: the decoder's work (every "
        "frame is composited at full size), checked before any pixel is decoded.",
    )
    max_concurrent_decodes: int = Field(
        2,
        ge=1,
        le=64,
        description="GIF pixel decodes (upload checks, reviewers' frames) running at once per "
        "process; others wait up to 30 s, then get 503.",
    )
    max_title_chars: int = Field(300, gt=0, description="Longest accepted title.")
    max_description_chars: int = Field(5000, gt=0, description="Longest accepted description.")
    max_tags: int = Field(20, gt=0, description="Most tags on one asset or link.")
    max_tag_chars: int = Field(50, gt=0, description="Longest accepted tag.")
    asset_id_length: int = Field(
        16, ge=1, le=64, description="Hex characters of the SHA-256 used as the asset id."
    )
    moderation: Literal["async", "sync", "off"] = Field(
        "async",
        description="async: uploads wait for the background worker; sync: moderated during "
        "the upload request; off: everything is approved (trusted, private deployments).",
    )
    renditions: Literal["on", "off"] = Field(
        "on",
        description="on: a background worker makes MP4, WebP, still and tiny renditions of "
        "each approved GIF (needs the `video` extra); off: only the GIF is served.",
    )
    renditions_max_seconds: float = Field(
        120.0, gt=0, description="Wall-clock budget for converting one GIF's renditions."
    )
    renditions_max_memory_mb: int = Field(
        1536, ge=128, description="Memory (address space) budget of the converting process."
    )
    moderation_strict: bool = Field(
        True, description="Send anything the scanners could not see or clear to review."
    )
    openai_api_key: SecretStr | None = Field(
        None,
        description="Also moderate with OpenAI's moderation model (text and sampled frames); "
        "needs the `openai` extra. A failed OpenAI check sends the upload to review.",
    )
    openai_base_url: str | None = Field(
        None, description="OpenAI-compatible API base URL (default: OPENAI_BASE_URL or OpenAI's)."
    )
    signing_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='Signed-URL keys as JSON {"key id": "secret"}; several keys verify, '
        "the active one signs (default: one key derived from the secret key).",
    )
    signing_key_id: str | None = Field(
        None, description="Id of the signing key that signs new URLs (default: the last listed)."
    )
    signed_url_skew_seconds: int = Field(
        30, ge=0, le=3600, description="Seconds an expired signed URL is still accepted."
    )
    signed_url_max_seconds: int = Field(
        7 * 24 * 3600, gt=0, description="Longest lifetime a minted signed URL may have."
    )
    require_signed_urls: bool = Field(
        False, description="Serve every GIF's bytes only through a valid signed URL."
    )
    delivery: Literal["proxy", "redirect"] = Field(
        "proxy",
        description="For blobs in S3: proxy streams the bytes (Range passed through); redirect "
        "answers 302 to a presigned store URL.",
    )
    quarantine_retention_days: int = Field(
        90,
        ge=0,
        description="Days rejected GIFs' bytes are kept in quarantine for appeal or evidence "
        "before they are purged (0: keep forever). Their hash stays refused.",
    )
    report_threshold: int = Field(
        3, ge=1, description="Distinct reporters that take a public GIF down for review."
    )
    rate_limits: Literal["on", "off"] = Field(
        "on", description="off turns every rate limit off (limit at the edge instead)."
    )
    rate_limit_uploads: int = Field(30, gt=0, description="Uploads per minute per API key.")
    rate_limit_links: int = Field(300, gt=0, description="Link creations per minute per key.")
    rate_limit_beacons: int = Field(120, gt=0, description="Beacons per minute per client address.")
    rate_limit_shortlinks: int = Field(600, gt=0, description="/s/ requests per minute per IP.")
    rate_limit_signin: int = Field(10, gt=0, description="Sign-in attempts per minute per IP.")
    rate_limit_reports: int = Field(
        10, gt=0, description="Abuse reports per hour per client address."
    )
    rate_limit_on_redis_failure: Literal["fallback", "refuse"] = Field(
        "fallback",
        description="When Redis is unreachable: fall back to in-process limits, or refuse (503).",
    )
    analytics_retention_days: int = Field(
        90, ge=0, description="Days raw analytics events are kept (0: forever); rollups stay."
    )
    analytics_raw_events: bool = Field(
        False,
        description="Also store one row per analytics event (off: only hourly rollups and "
        "daily unique-visitor sketches are written; see docs/adr/0009).",
    )
    analytics_buffer_events: int = Field(
        100_000,
        gt=0,
        description="Events held in memory before new ones spill to a file in the data directory.",
    )
    analytics_batch_size: int = Field(
        50_000,
        gt=0,
        description="Most events aggregated into one transaction (a flush writes what is held).",
    )
    analytics_flush_seconds: float = Field(
        1.0, gt=0, description="Longest time an event waits in memory before it is written."
    )
    analytics_dedupe_seconds: float = Field(
        1800, ge=1, description="Window in which a visitor's repeated play of a GIF counts once."
    )
    search_language: str = Field(
        "english",
        description='Language whose Snowball stemmer search uses ("cats" finds "cat"), or '
        "none; run `gifdist search reindex` after changing it.",
    )
    search_cache_seconds: float = Field(
        30.0,
        ge=0,
        description="Seconds trending, featured and category lists are reused before they "
        "are computed again from the analytics rollups.",
    )
    gallery: bool = Field(
        True,
        description="Serve the public gallery (/gifs): search, tag pages and trending GIFs, "
        "approved and public ones only.",
    )
    signup: bool = Field(
        False,
        description="Anyone may make a member account at /signup (false: only by an admin's "
        "invite link).",
    )
    invite_hours: int = Field(72, gt=0, description="Hours an invite link stays usable.")
    reset_link_hours: int = Field(24, gt=0, description="Hours a password-reset link stays usable.")
    signin_attempts_per_account: int = Field(
        10, gt=0, description="Sign-in attempts per account per 15 minutes (wrong or right)."
    )
    signin_attempts_per_client: int = Field(
        50, gt=0, description="Sign-in attempts per client address per 15 minutes."
    )
    quota_bytes: int = Field(
        0,
        ge=0,
        description="Bytes of GIFs each user may store (0: unlimited; per user: "
        "`gifdist users quota`).",
    )
    oidc_issuer: str | None = Field(
        None,
        description="OpenID Connect issuer URL (its /.well-known/openid-configuration is "
        "read); with the client id and secret, /signin offers single sign-on "
        "(pip install 'gifdist[oidc]').",
    )
    oidc_client_id: str | None = Field(None, description="OpenID Connect client id.")
    oidc_client_secret: SecretStr | None = Field(None, description="OpenID Connect client secret.")
    oidc_create_users: bool = Field(
        False,
        description="Make a member for a provider's user who matches nobody here (false: "
        "only existing users, matched by subject or verified e-mail, may sign in).",
    )
    quota_uploads_per_day: int = Field(
        0, ge=0, description="Uploads each user may make per 24 hours (0: unlimited)."
    )
    gif_api_access: Literal["keys", "public", "off"] = Field(
        "keys",
        description="Who may call the Tenor- and GIPHY-compatible APIs (/v2, /v1/gifs): keys: a "
        "gifdist API key with the search scope as `key`/`api_key`; public: anyone (unknown "
        "keys are ignored); off: the routes answer 404.",
    )
    rate_limit_gif_api: int = Field(
        600, gt=0, description="Tenor/GIPHY-compatible API requests per minute per key (or IP)."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Peer addresses (or CIDR ranges) whose X-Forwarded-For/Forwarded is trusted.",
    )
    shared_cache_seconds: int = Field(
        60,
        ge=0,
        le=86_400,
        description="s-maxage on public GIF bytes: the longest a shared cache (caching proxy, "
        "CDN) serves them without asking again, so the bound on how long a takedown, "
        "rejection or make-private takes to reach caches that are not purged. Browsers keep "
        "the long max-age.",
    )
    cache_purge_urls: list[str] = Field(
        default_factory=list,
        description="Caches told at once when a GIF changes (made private, rejected, taken "
        "down): each URL gets PURGE <url>/a/<id>.gif and PURGE <url>/a/<id> (nginx "
        "cache-purge module, Varnish, a CDN's purge endpoint).",
    )
    edge_log_listen: str | None = Field(
        None,
        description="host:port (UDP) where this node receives the caching proxy's access log "
        "(syslog, one JSON line per /a/ request the cache answered itself) and counts those "
        "plays, which never reach the app (deploy/nginx.conf sends them). Lines are taken "
        "from GIFDIST_TRUSTED_PROXIES and loopback only. Unset: off.",
    )
    client_ip_header: Literal["x-forwarded-for", "forwarded"] = Field(
        "x-forwarded-for",
        description="The one forwarding header believed from a trusted proxy (the other is "
        "ignored): x-forwarded-for, or forwarded (RFC 7239 for=). Set it to the header your "
        "proxy writes, and have the proxy overwrite or strip the other.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Lowest log level written."
    )
    log_json: bool | None = Field(
        None, description="JSON log lines (default: when stdout is not a terminal)."
    )
    access_log: bool = Field(
        True,
        description="One log line per request (method, route template, status, duration, "
        "bytes, request id, trace id); needs telemetry on.",
    )
    telemetry: Literal["on", "off"] = Field(
        "on",
        description="off skips per-request metrics and tracing (GET /metrics still answers).",
    )
    otlp_endpoint: str | None = Field(
        None,
        validation_alias=AliasChoices("GIFDIST_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
        description="OTLP/HTTP collector base URL (spans go to <url>/v1/traces); unset: "
        "traces are not exported. Needs the `otlp` extra.",
    )
    metrics_multiprocess_dir: Path | None = Field(
        None,
        validation_alias="PROMETHEUS_MULTIPROC_DIR",
        description="prometheus-client multi-process directory; `gifdist serve` with "
        "several workers sets it to <data_dir>/metrics when unset.",
    )

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        """Take ``GIFDIST_<NAME>_FILE`` for secrets when the value itself is not set."""
        if not isinstance(data, dict):
            return data
        for name in _SECRET_FIELDS:
            path = os.environ.get(f"GIFDIST_{name.upper()}_FILE")
            if path and not data.get(name):
                data[name] = Path(path).read_text().strip()
        return data

    @field_validator("server", mode="before")
    @classmethod
    def _url_is_the_cli_remote(cls, value: Any) -> Any:
        """GIFDIST_SERVER=https://… is the CLI's --server, not an ASGI server name."""
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return "granian"
        return value

    @field_validator("search_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        from gifdist.search import languages

        value = value.strip().lower()
        if value not in languages():
            raise ValueError(f"unknown language {value!r}; use one of {', '.join(languages())}")
        return value

    @field_validator("edge_log_listen")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        from gifdist.analytics.edge import parse_listen

        if value is None or not value.strip():
            return None
        if parse_listen(value)[1] == 0:  # ValueError: "… is not host:port"
            raise ValueError(f"{value!r} is not host:port (a port the proxy can send to)")
        return value.strip()

    @field_validator("base_url")
    @classmethod
    def _strip_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        """The database URL in use (the SQLite file in the data directory by default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gifdist.db').resolve()}"

    @property
    def resolved_storage_url(self) -> str:
        """The blob store URL in use (the data directory by default)."""
        return self.storage_url or f"file://{(self.data_dir / 'blobs').resolve()}"


def settings_reference() -> str:
    """The configuration reference in Markdown, generated from ``Settings``.

    ``docs/configuration.md`` is this text; a test keeps the two identical.
    """
    lines = [
        "# Configuration",
        "",
        "Every setting is an environment variable `GIFDIST_<NAME>` (or a line in `.env`).",
        "Secrets (`GIFDIST_ADMIN_KEY`, `GIFDIST_SECRET_KEY`) may instead be read from the",
        "file named by `GIFDIST_<NAME>_FILE`. This page is generated from `gifdist/config.py`",
        "(`python -m gifdist.config > docs/configuration.md`).",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        shown = "—" if default is None else f"`{default}`"
        kind = _type_name(field.annotation)
        lines.append(f"| {_env_names(name, field)} | {kind} | {shown} | {field.description} |")
    return "\n".join(lines) + "\n"


def _env_names(name: str, field: Any) -> str:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return ", ".join(f"`{choice}`" for choice in alias.choices)
    return f"`{alias or f'GIFDIST_{name.upper()}'}`"


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return " \\| ".join(f"`{arg}`" for arg in get_args(annotation))
    name = getattr(annotation, "__name__", None) or str(annotation)
    return (
        name.replace("typing.", "")
        .replace("pydantic.types.", "")
        .replace("pathlib.", "")
        .replace("|", "\\|")
    )


if __name__ == "__main__":  # pragma: no cover
    print(settings_reference(), end="")
