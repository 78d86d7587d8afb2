"""``gifdist db``: database maintenance."""

from __future__ import annotations

from typing import Annotated

import typer

from gifdist.cli.errors import CliError
from gifdist.cli.local import local_service
from gifdist.cli.output import console
from gifdist.config import Settings

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


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
        raise CliError(f"migration failed: {exc}") from None
    finally:
        engine.dispose()
    state = "already up to date" if before == after else f"upgraded {before or 'empty'} → {after}"
    console.print(f"database {state} (revision {after})")


@db_app.command("repair")
def db_repair(
    older_than: Annotated[
        float,
        typer.Option(
            "--older-than",
            min=0,
            help="Sweep only blobs written at least this many seconds ago (younger ones "
            "may belong to an upload still in flight).",
        ),
    ] = 3600.0,
) -> None:
    """Finish deletes a crash interrupted and remove blobs nothing names (what every
    start does, and the hourly sweep)."""
    with local_service() as service:
        finished = service.deletes.finish_pending()
        swept = service.deletes.sweep_orphans(older_than)
    console.print(f"finished {finished} interrupted deletes; removed {swept} unused blobs")
