"""``gifdist keys``: create, list and revoke API keys (the key ring's use cases)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from gifdist.cli.errors import UsageError
from gifdist.cli.local import local_service
from gifdist.cli.output import console, err
from gifdist.errors import GifdistError, NotFound

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


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
        raise UsageError(exc.message) from None
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
            raise NotFound(f"no active key with id {key_id!r}")
    console.print(f"revoked {key_id}")
