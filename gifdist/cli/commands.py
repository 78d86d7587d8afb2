"""The ``gifdist`` command line: serve, upload, links, keys, db."""

from __future__ import annotations

import errno
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from gifdist.config import Settings
from gifdist.errors import GifdistError

app = typer.Typer(
    help="gifdist: upload GIFs, get canonical URLs and short share links, serve them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
links_app = typer.Typer(help="Create, list, edit and delete short links.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
assets_app = typer.Typer(
    help="List, edit and delete GIFs; private GIFs and signed URLs.", no_args_is_help=True
)
audit_app = typer.Typer(help="The moderation audit trail.", no_args_is_help=True)
moderation_app = typer.Typer(help="The review queue and decisions.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(links_app, name="links")
app.add_typer(db_app, name="db")
app.add_typer(assets_app, name="assets")
app.add_typer(audit_app, name="audit")
app.add_typer(moderation_app, name="moderation")

console = Console()
err = Console(stderr=True)

ServerOpt = Annotated[
    str | None,
    typer.Option(
        "--server", help="Talk to a running gifdist at this URL instead of the local data dir."
    ),
]
KeyOpt = Annotated[
    str | None,
    typer.Option("--key", envvar="GIFDIST_KEY", help="API key for --server (or GIFDIST_KEY)."),
]


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


@contextmanager
def local_service() -> Iterator[Any]:
    """A ``Service`` on the configured data dir and database (migrated)."""
    from gifdist.wiring import Service

    try:
        service = Service(Settings())
    except GifdistError as exc:
        raise fail(exc.message) from None
    try:
        yield service
    finally:
        service.close()


# serve ------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (GIFDIST_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (GIFDIST_PORT).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (GIFDIST_WORKERS).")] = None,
    reload: Annotated[bool, typer.Option(help="Restart when code changes (development).")] = False,
    server: Annotated[
        str | None, typer.Option(help="granian (default) or uvicorn (GIFDIST_SERVER).")
    ] = None,
    reuse_port: Annotated[
        bool,
        typer.Option(
            help="Share the port with servers already listening on it (granian's "
            "SO_REUSEPORT); without it a port in use is refused."
        ),
    ] = False,
) -> None:
    """Serve the web app and API (configuration from GIFDIST_* variables).

    Refuses to start ("address in use", exit 1) when something already listens on
    the port, unless ``--reuse-port`` asks to share it.
    """
    from gifdist.observability.logs import configure_logging, granian_log_config

    settings = Settings()
    configure_logging(settings)
    host = host or settings.host
    port = port if port is not None else settings.port
    workers = workers or settings.workers
    server = server or settings.server
    if server not in ("granian", "uvicorn"):
        raise fail(f"unknown server {server!r}: use granian or uvicorn")
    if not reuse_port:
        _refuse_a_port_in_use(host, port)
    if workers > 1 and settings.metrics_multiprocess_dir is None:
        _share_metrics_between_workers(settings)
    _prepare_and_announce(settings, host, port, server, workers)
    target = "gifdist.web.main:create_app_from_env"
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(
            target,
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            factory=True,
            log_level=settings.log_level,
            log_config=None,  # uvicorn's loggers propagate to configure_logging's handler
            access_log=False,
        )
        return
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        target,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        reload=reload,
        factory=True,
        log_access=False,
        log_dictconfig=granian_log_config(settings),
    ).serve()


def _refuse_a_port_in_use(host: str, port: int) -> None:
    """Exit with "address in use" if a socket already listens on ``host:port``.

    granian binds with SO_REUSEPORT, so a second server would otherwise start
    silently and share the port with the first. The probe binds without it.
    """
    try:
        family, _, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror}", code=2) from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ignore TIME_WAIT
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise fail(f"cannot listen on {host}:{port}: {exc.strerror}") from None
            raise fail(
                f"address in use: something already listens on {host}:{port} (another "
                "gifdist serve?). Stop it, pick another --port, or pass --reuse-port to "
                "share the port with it."
            ) from None


def _share_metrics_between_workers(settings: Settings) -> None:
    """Point prometheus-client's multi-process mode at a fresh <data_dir>/metrics.

    Set in the environment before the workers start, so each worker's Settings and
    prometheus-client see it; the previous run's files are removed first.
    """
    directory = (settings.data_dir / "metrics").resolve()
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def _prepare_and_announce(
    settings: Settings, host: str, port: int, server: str, workers: int
) -> None:
    """Migrate once, create the first key if needed, and say where everything is.

    With JSON logs on stdout the banner goes to stderr, so stdout stays one JSON
    object per line.
    """
    from gifdist.accounts.keys import ensure_initial_key
    from gifdist.observability.logs import wants_json
    from gifdist.wiring import Service

    service = Service(settings)
    try:
        secret = ensure_initial_key(
            service.keys,
            admin_key_configured=settings.admin_key is not None or service.users.store.count() > 0,
        )
        unused = secret is None and settings.admin_key is None and not service.keys.store.any_used()
        database = service.engine.url.render_as_string(hide_password=True)
    finally:
        service.close()
    out = err if wants_json(settings) else console
    out.print(f"[bold]gifdist[/bold] on {server} × {workers} worker(s)")
    out.print(f"  data dir   {settings.data_dir.resolve()}")
    out.print(f"  database   {database}")
    out.print(f"  blobs      {settings.resolved_storage_url}")
    out.print(f"  redis      {settings.redis_url or 'not configured (in-process limits)'}")
    out.print(f"  moderation {settings.moderation}")
    if secret:
        out.print("\n[bold yellow]First start: created an admin API key (shown once):[/]")
        out.print(f"  {secret}\n")
    elif unused:
        out.print("\nNo API key has been used yet. If the first admin key is lost, make a new one:")
        out.print("  gifdist keys create NAME --scope admin\n", highlight=False)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    out.print(f"Open [bold]http://{shown}:{port}/[/bold]  (public URL: {settings.base_url})")


# upload -----------------------------------------------------------------------


@app.command()
def upload(
    files: Annotated[list[Path], typer.Argument(help="GIF files to upload.")],
    title: Annotated[
        str | None, typer.Option(help="Title for every file (default: file name).")
    ] = None,
    tags: Annotated[str | None, typer.Option(help="Comma-separated tags.")] = None,
    description: Annotated[str | None, typer.Option(help="Description.")] = None,
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """Upload GIFs and print each one's short URL."""
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise fail(f"not a file: {', '.join(missing)}", code=2)
    failures = 0
    with _progress() as progress:
        for path in files:
            task = progress.add_task(path.name, total=path.stat().st_size)
            try:
                result = (
                    _upload_remote(server, key, path, title, tags, description, progress, task)
                    if server
                    else _upload_local(path, title, tags, description)
                )
            except (GifdistError, _RemoteError) as exc:
                failures += 1
                progress.console.print(f"[red]✗[/red] {path}: {_message(exc)}", highlight=False)
                continue
            progress.update(task, completed=path.stat().st_size)
            again = (
                " — uploaded before, unchanged" if result["asset"].get("already_uploaded") else ""
            )
            progress.console.print(
                f"[green]✓[/green] {path}: {result['short_url']}  "
                f"({result['asset']['status']}, {result['asset']['canonical_url']}){again}",
                highlight=False,
            )
    if failures:
        raise typer.Exit(1)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        transient=False,
    )


class _RemoteError(Exception):
    pass


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, GifdistError) else str(exc)


def _upload_local(
    path: Path, title: str | None, tags: str | None, description: str | None
) -> dict[str, Any]:
    with local_service() as service:
        meta = service.uploads.clean_metadata(
            title if title is not None else path.stem, tags, description
        )
        result = service.uploads.ingest_file(path, meta, owner=None)
        link = service.sharing.create(result.asset.asset_id)
        asset = result.asset.to_json(service.settings.base_url)
        asset["already_uploaded"] = not result.created
        return {"asset": asset, "short_url": link["short_url"]}


class _ProgressReader:
    """A file wrapper that advances a progress bar as httpx streams it."""

    def __init__(self, handle: IO[bytes], progress: Progress, task: Any) -> None:
        self.handle, self.progress, self.task = handle, progress, task

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.progress.advance(self.task, len(data))
        return data


def _upload_remote(
    server: str | None,
    key: str | None,
    path: Path,
    title: str | None,
    tags: str | None,
    description: str | None,
    progress: Progress,
    task: Any,
) -> dict[str, Any]:
    import httpx

    if not key:
        raise _RemoteError("--key (or GIFDIST_KEY) is required with --server")
    base = (server or "").rstrip("/")
    fields = {"title": title if title is not None else path.stem}
    if tags:
        fields["tags"] = tags
    if description:
        fields["description"] = description
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(timeout=120) as client, path.open("rb") as handle:
            reader = _ProgressReader(handle, progress, task)
            response = client.post(
                f"{base}/api/v1/assets",
                headers=headers,
                data=fields,
                files={"file": (path.name, reader, "image/gif")},  # type: ignore[dict-item]
            )
            asset = _json_or_raise(response)
            link = _json_or_raise(
                client.post(
                    f"{base}/api/v1/assets/{asset['asset_id']}/links", headers=headers, json={}
                )
            )
    except httpx.HTTPError as exc:
        raise _RemoteError(f"cannot reach {base}: {exc}") from None
    return {"asset": asset, "short_url": link["short_url"]}


def _json_or_raise(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
        raise _RemoteError(f"{response.status_code} {error.get('message') or response.text[:200]}")
    return body  # type: ignore[no-any-return]


# links ------------------------------------------------------------------------


@links_app.command("create")
def links_create(
    asset_id: Annotated[str, typer.Argument(help="The asset to link to.")],
    title: Annotated[str | None, typer.Option(help="Title shown in previews.")] = None,
    tags: Annotated[str | None, typer.Option(help="Comma-separated tags.")] = None,
    via: Annotated[
        str | None, typer.Option(help="slack, discord, teams, twitter, facebook or web.")
    ] = None,
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """Create a short link for an asset and print its URL."""
    if server:
        import httpx

        if not key:
            raise fail("--key (or GIFDIST_KEY) is required with --server", code=2)
        body = {k: v for k, v in {"title": title, "tags": tags, "via": via}.items() if v}
        try:
            response = httpx.post(
                f"{server.rstrip('/')}/api/v1/assets/{asset_id}/links",
                json=body,
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            )
            link = _json_or_raise(response)
        except (httpx.HTTPError, _RemoteError) as exc:
            raise fail(str(exc)) from None
    else:
        with local_service() as service:
            try:
                link = service.sharing.create(asset_id, title=title, tags=tags, via=via)
            except GifdistError as exc:
                raise fail(exc.message) from None
    console.print(link["short_url"], highlight=False)


# keys -------------------------------------------------------------------------


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="A label for the key (who or what uses it).")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            "-s",
            help="upload, links, read, stats, moderate, admin "
            "(repeatable; default: upload links read stats).",
        ),
    ] = None,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from gifdist.accounts.keys import DEFAULT_SCOPES, parse_scopes

    try:
        scopes = parse_scopes(scope) if scope else frozenset(DEFAULT_SCOPES)
    except GifdistError as exc:
        raise fail(exc.message, code=2) from None
    with local_service() as service:
        secret, key = service.keys.create(name, scopes)
    err.print(
        f"created key {key.key_id} ({', '.join(sorted(s.value for s in key.scopes))}); "
        "store it now, it is not shown again:"
    )
    console.print(secret, highlight=False)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (ids, names, scopes; never secrets)."""
    with local_service() as service:
        keys = service.keys.list()
    table = Table("id", "name", "scopes", "created", "revoked")
    for key in keys:
        table.add_row(
            key.key_id,
            key.name,
            " ".join(sorted(s.value for s in key.scopes)),
            key.created_at.strftime("%Y-%m-%d %H:%M"),
            key.revoked_at.strftime("%Y-%m-%d %H:%M") if key.revoked_at else "",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id shown by `keys list`.")],
) -> None:
    """Revoke a key; requests with it are refused from now on."""
    with local_service() as service:
        if not service.keys.revoke(key_id):
            raise fail(f"no active key with id {key_id!r}")
    console.print(f"revoked {key_id}")


# stats ------------------------------------------------------------------------


@app.command("stats")
def stats_command(
    target: Annotated[str, typer.Argument(help="An asset id, or a short code with --link.")],
    link: Annotated[bool, typer.Option("--link", help="TARGET is a short code.")] = False,
    start: Annotated[
        str | None, typer.Option("--from", help="Start: ISO 8601 time or epoch seconds.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="End (default: now).")] = None,
    interval: Annotated[str, typer.Option(help="Series buckets: hour or day.")] = "day",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the series as CSV.")] = False,
) -> None:
    """Views, plays, clicks, CTR and play rate of an asset or short link, per platform."""
    import json

    from gifdist.analytics.reports import make_window, series_csv

    with local_service() as service:
        try:
            window = make_window(start, end, interval)
            if link:
                found = service.sharing.get(target)
                if found is None:
                    raise fail(f"no short link {target[:64]!r}")
                report = service.stats.report(window, short_code=found["short_code"])
            else:
                record = service.catalog.require(target)
                report = service.stats.report(window, asset_id=record.asset_id)
        except GifdistError as exc:
            raise fail(exc.message, code=2 if exc.status < 404 else 1) from None
    if as_json:
        console.print_json(json.dumps(report))
        return
    if as_csv:
        sys.stdout.write(series_csv(report))
        return
    _print_stats(report, target)


def _print_stats(report: dict[str, Any], target: str) -> None:
    columns = ("views", "plays", "clicks", "ctr", "play_rate")
    title = f"{target}: {report['from'] or 'all time'} → {report['to'] or 'now'}"
    table = Table("platform", *columns, title=title)
    for name, row in report["platforms"].items():
        if row["views"] or row["plays"] or row["clicks"]:
            table.add_row(name, *(_cell(row[c], c) for c in columns))
    table.add_section()
    table.add_row("total", *(_cell(report[c], c) for c in columns), style="bold")
    console.print(table)
    busy = [row for row in report["series"] if row["views"] or row["plays"] or row["clicks"]]
    if busy:
        series = Table("bucket", "views", "plays", "clicks", title=f"by {report['interval']}")
        for row in busy[-30:]:
            series.add_row(row["t"][:16], str(row["views"]), str(row["plays"]), str(row["clicks"]))
        console.print(series)


def _cell(value: Any, column: str) -> str:
    return f"{value:.2f}%" if column in ("ctr", "play_rate") else f"{value:,}"


# assets -----------------------------------------------------------------------


@assets_app.command("private")
def assets_private(
    asset_id: Annotated[str, typer.Argument(help="The asset.")],
    off: Annotated[bool, typer.Option("--off", help="Make it public again.")] = False,
) -> None:
    """Serve a GIF (bytes and page) only through signed URLs, or make it public again."""
    with local_service() as service:
        try:
            record = service.catalog.set_private(asset_id, not off, None)
        except GifdistError as exc:
            raise fail(exc.message) from None
    console.print(f"{record.asset_id} is now {'private' if record.private else 'public'}")


@assets_app.command("sign")
def assets_sign(
    asset_id: Annotated[str, typer.Argument(help="The asset.")],
    expires_in: Annotated[int, typer.Option("--expires-in", help="Seconds valid.")] = 3600,
) -> None:
    """Print signed, expiring URLs for a GIF's bytes and page."""
    with local_service() as service:
        try:
            urls = service.signing.urls(service.catalog.require(asset_id), expires_in, None)
        except GifdistError as exc:
            raise fail(exc.message, code=2 if exc.status == 400 else 1) from None
    err.print(f"valid until {urls['expires_at']} (key {urls['key_id']})")
    console.print(urls["gif_url"], highlight=False, soft_wrap=True)
    console.print(urls["page_url"], highlight=False, soft_wrap=True)


# moderation -------------------------------------------------------------------


@moderation_app.command("queue")
def moderation_queue(
    status: Annotated[str | None, typer.Option(help="flagged or pending (default: both).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """List GIFs waiting for a moderator, oldest first."""
    with local_service() as service:
        try:
            items = service.review.queue(status, limit, 0)
        except GifdistError as exc:
            raise fail(exc.message, code=2) from None
    table = Table("asset", "status", "title", "uploaded", "why")
    for item in items:
        why = item["report_reasons"] or item["moderation"].get("reasons") or []
        table.add_row(
            item["asset_id"],
            item["status"],
            item["title"][:40],
            item["created_at"][:16],
            "; ".join(str(w) for w in why)[:80],
        )
    console.print(table if items else "the queue is empty")


@moderation_app.command("decide")
def moderation_decide(
    asset_id: Annotated[str, typer.Argument(help="The asset to decide on.")],
    decision: Annotated[str, typer.Argument(help="approve, reject or flag.")],
    notes: Annotated[str, typer.Option(help="Why (kept in the audit trail).")] = "",
    reviewer: Annotated[
        str, typer.Option(help="Who decides (recorded in the audit trail).")
    ] = "cli",
) -> None:
    """Approve, reject or flag a GIF."""
    with local_service() as service:
        try:
            record = service.review.decide(asset_id, decision, reviewer, notes)
        except GifdistError as exc:
            raise fail(exc.message, code=2 if exc.status == 400 else 1) from None
    console.print(f"{record.asset_id} is now {record.status.value}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain; exit 1 if an entry was altered or removed."""
    with local_service() as service:
        result = service.review.verify()
    if result["valid"]:
        console.print(f"audit trail intact: {result['entries']} entries, chain verified")
        return
    raise fail(
        f"audit trail TAMPERED: entry #{result['first_bad_index']} "
        f"({result['first_bad_audit_id']}) does not match the chain "
        f"({result['entries']} entries)"
    )


@audit_app.command("export")
def audit_export(
    start: Annotated[str | None, typer.Option("--from", help="ISO 8601 or epoch seconds.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="ISO 8601 or epoch seconds.")] = None,
    asset_id: Annotated[str | None, typer.Option("--asset", help="Only this asset.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Export audit entries (oldest first) in a time range."""
    import json

    from gifdist.analytics.reports import parse_time
    from gifdist.moderation.review import audit_csv

    if fmt not in ("json", "csv"):
        raise fail("--format must be json or csv", code=2)
    with local_service() as service:
        try:
            entries = service.review.audit(
                asset_id=asset_id,
                start=parse_time(start, "--from"),
                end=parse_time(end, "--to"),
                limit=0,
            )
        except GifdistError as exc:
            raise fail(exc.message, code=2) from None
    text = (
        audit_csv(entries)
        if fmt == "csv"
        else json.dumps([e.to_dict() for e in entries], indent=2) + "\n"
    )
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        err.print(f"wrote {len(entries)} entries to {output}")


# db ---------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (safe to run repeatedly and from several nodes)."""
    from gifdist.stores.database import create_database_engine
    from gifdist.stores.migrate import current_revision, upgrade_database

    settings = Settings()
    engine = create_database_engine(settings.resolved_database_url)
    try:
        before = current_revision(engine)
        upgrade_database(engine)
        after = current_revision(engine)
    except Exception as exc:  # the database itself is the boundary here
        raise fail(f"migration failed: {exc}") from None
    finally:
        engine.dispose()
    state = "already up to date" if before == after else f"upgraded {before or 'empty'} → {after}"
    console.print(f"database {state} (revision {after})")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
