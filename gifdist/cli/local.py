"""Commands on the local data dir: the same ``Service`` (composition root) the server
builds, so a command calls the same use cases as the API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from gifdist.cli.errors import UsageError
from gifdist.cli.output import err
from gifdist.config import Settings

if TYPE_CHECKING:
    from gifdist.wiring import Service


def require_data(settings: Settings) -> None:
    """Refuse (exit 2) where there is no data: a command run in the wrong directory must
    not create an empty data dir. ``serve`` and ``db upgrade`` are the ones that start a
    new one."""
    if settings.database_url is None and not settings.data_dir.exists():
        raise UsageError(
            f"no gifdist data in {settings.data_dir.resolve()} (set GIFDIST_DATA_DIR, pass "
            "--server URL, or run `gifdist db upgrade` to start a new one)"
        )


def describe(settings: Settings) -> str:
    """The one line saying which data a command uses (database URL without password)."""
    from sqlalchemy.engine import make_url

    database = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    return f"using local data: {database.split('?')[0]}"


@contextmanager
def local_service(*, announce: bool = False) -> Iterator[Service]:
    """A ``Service`` on the configured data dir and database (migrated), closed after.

    Refuses where no data exists; with ``announce``, says on stderr which data it uses.
    """
    from gifdist.wiring import Service

    settings = Settings()
    require_data(settings)
    if announce:
        err.print(describe(settings), highlight=False, soft_wrap=True)
    service = Service(settings)
    try:
        yield service
    finally:
        service.close()
