"""The root ``gifdist`` command: one line per command module registers it, and every
command runs inside the one error handler (:mod:`gifdist.cli.errors`)."""

from __future__ import annotations

import typer

from gifdist.cli import (
    assets,
    audit,
    db,
    keys,
    links,
    moderation,
    owners,
    renditions,
    search,
    serve,
    stats,
    upload,
    users,
)
from gifdist.cli.errors import HandledGroup

app = typer.Typer(
    cls=HandledGroup,
    help="gifdist: upload GIFs, get canonical URLs and short share links, serve them.",
    epilog="Exit codes: 0 done, 1 refused or failed, 2 usage (see the README's CLI section).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(serve.serve_app)  # serve
app.add_typer(upload.upload_app)  # upload
app.add_typer(stats.stats_app)  # stats
app.add_typer(owners.owners_app)  # export, erase
app.add_typer(assets.assets_app, name="assets")
app.add_typer(links.links_app, name="links")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(moderation.moderation_app, name="moderation")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(search.search_app, name="search")
app.add_typer(renditions.renditions_app, name="renditions")
app.add_typer(db.db_app, name="db")
app.add_typer(users.users_app, name="users")


def main() -> None:
    """Console-script entry point."""
    app()
