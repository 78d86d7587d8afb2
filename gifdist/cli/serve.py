"""``gifdist serve``: the web app and API, on granian (default) or uvicorn."""

from __future__ import annotations

import errno
import os
import socket
from typing import Annotated

import typer

from gifdist.cli.errors import CliError, UsageError
from gifdist.cli.output import console, err
from gifdist.config import Settings

serve_app = typer.Typer()


@serve_app.command()
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
        raise UsageError(f"unknown server {server!r}: use granian or uvicorn")
    if not reuse_port:
        _refuse_a_port_in_use(host, port)
    if settings.edge_log_listen:  # else each worker's start-up fails with a traceback
        from gifdist.analytics.edge import check_listen
        from gifdist.errors import GifdistError

        try:
            check_listen(settings.edge_log_listen)
        except GifdistError as exc:
            raise CliError(exc.message) from None
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
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ignore TIME_WAIT
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
            raise CliError(
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
        no_users = service.users.store.count() == 0
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
        out.print(f"  {secret}")
        out.print("To sign in with a username and password, make the first admin user:")
        out.print("  gifdist users create NAME --admin\n", highlight=False)
    elif unused:
        out.print("\nNo API key has been used yet. If the first admin key is lost, make a new one:")
        out.print("  gifdist keys create NAME --scope admin", highlight=False)
        if no_users:
            out.print("or make the first admin user, to sign in with a password:")
            out.print("  gifdist users create NAME --admin", highlight=False)
        out.print()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    out.print(f"Open [bold]http://{shown}:{port}/[/bold]  (public URL: {settings.base_url})")
