"""``gifdist assets``: list, show, edit and delete GIFs (local data dir or ``--server``),
make them private and sign their URLs (local)."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from gifdist.assets.library import SORTS, AssetQuery
from gifdist.cli.errors import UsageError
from gifdist.cli.local import local_service
from gifdist.cli.output import console, err
from gifdist.cli.remote import KeyOpt, RemoteServer, ServerOpt, local_or_remote, segment

if TYPE_CHECKING:
    from gifdist.wiring import Service

assets_app = typer.Typer(
    help="List, edit and delete GIFs; private GIFs and signed URLs.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
AssetArg = Annotated[str, typer.Argument(help="The asset id.")]


class LocalAssets:
    """The library and editor use cases on the local data dir (acting as the operator)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.base = service.settings.base_url

    def list(self, query: AssetQuery) -> list[dict[str, Any]]:
        page = self.service.library.list(None, query)
        return [{**record.to_json(self.base), **metrics} for record, metrics in page.items]

    def show(self, asset_id: str) -> dict[str, Any]:
        return self.service.catalog.require(asset_id).to_json(self.base)

    def edit(self, asset_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self.service.editor.edit(asset_id, None, **changes).to_json(self.base)

    def delete(self, asset_id: str) -> None:
        self.service.editor.delete(asset_id, None)


class RemoteAssets:
    """The same through a server's API, as the key's owner."""

    def __init__(self, api: RemoteServer) -> None:
        self.api = api

    def list(self, query: AssetQuery) -> list[dict[str, Any]]:
        params = {
            "status": query.status,
            "tag": query.tag,
            "q": query.text,
            "sort": query.sort,
            "limit": query.limit,
        }
        body = self.api.call("GET", "assets", params={k: v for k, v in params.items() if v})
        return list(body["assets"])

    def show(self, asset_id: str) -> dict[str, Any]:
        return dict(self.api.call("GET", f"assets/{segment(asset_id)}"))

    def edit(self, asset_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return dict(self.api.call("PATCH", f"assets/{segment(asset_id)}", json=changes))

    def delete(self, asset_id: str) -> None:
        self.api.call("DELETE", f"assets/{segment(asset_id)}")


def _assets(
    server: str | None, key: str | None
) -> AbstractContextManager[LocalAssets | RemoteAssets]:
    return local_or_remote(server, key, LocalAssets, RemoteAssets)


@assets_app.command("list")
def assets_list(
    status: Annotated[
        str | None, typer.Option(help="pending, approved, flagged, rejected.")
    ] = None,
    tag: Annotated[str | None, typer.Option(help="Only GIFs with this tag.")] = None,
    q: Annotated[str | None, typer.Option("--q", help="Words in the title or tags.")] = None,
    sort: Annotated[str, typer.Option(help=" | ".join(SORTS))] = "new",
    limit: Annotated[int, typer.Option(min=1, max=100, help="At most this many.")] = 50,
    as_json: JsonOpt = False,
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """List GIFs with their all-time views, plays, clicks and CTR."""
    query = AssetQuery(status=status, tag=tag, text=q, sort=sort, limit=limit)
    with _assets(server, key) as assets:
        rows = assets.list(query)
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table("id", "title", "status", "private", "views", "clicks", "ctr")
    for row in rows:
        table.add_row(
            row["asset_id"],
            row["title"][:40],
            row["status"],
            "yes" if row["private"] else "",
            str(row["views"]),
            str(row["clicks"]),
            f"{row['ctr']:.2f}%",
        )
    console.print(table)


@assets_app.command("show")
def assets_show(asset_id: AssetArg, server: ServerOpt = None, key: KeyOpt = None) -> None:
    """Print one GIF's description as JSON."""
    with _assets(server, key) as assets:
        body = assets.show(asset_id)
    console.print_json(json.dumps(body))


@assets_app.command("edit")
def assets_edit(
    asset_id: AssetArg,
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    tags: Annotated[str | None, typer.Option(help="New tags, comma-separated.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """Change a GIF's title, tags or description (checked like upload text)."""
    changes = {"title": title, "tags": tags, "description": description}
    changes = {name: value for name, value in changes.items() if value is not None}
    if not changes:
        raise UsageError("give at least one of --title, --tags and --description")
    with _assets(server, key) as assets:
        body = assets.edit(asset_id, changes)
    tags = ", ".join(body["tags"])
    console.print(f"{body['asset_id']}: {body['title']!r} [{tags}]", markup=False, highlight=False)


@assets_app.command("delete")
def assets_delete(
    asset_id: AssetArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """Delete a GIF for good: its links, numbers and (when unused) bytes; URLs answer 410."""
    if not yes:
        typer.confirm(f"Delete {asset_id} and all its links for good?", abort=True)
    with _assets(server, key) as assets:
        assets.delete(asset_id)
    console.print(f"deleted {asset_id}")


@assets_app.command("private")
def assets_private(
    asset_id: AssetArg,
    off: Annotated[bool, typer.Option("--off", help="Make it public again.")] = False,
) -> None:
    """Serve a GIF (bytes and page) only through signed URLs, or make it public again."""
    with local_service() as service:
        record = service.catalog.set_private(asset_id, not off, None)
    console.print(f"{record.asset_id} is now {'private' if record.private else 'public'}")


@assets_app.command("sign")
def assets_sign(
    asset_id: AssetArg,
    expires_in: Annotated[int, typer.Option("--expires-in", help="Seconds valid.")] = 3600,
) -> None:
    """Print signed, expiring URLs for a GIF's bytes and page."""
    with local_service() as service:
        urls = service.signing.urls(service.catalog.require(asset_id), expires_in, None)
    err.print(f"valid until {urls['expires_at']} (key {urls['key_id']})")
    console.print(urls["gif_url"], highlight=False, soft_wrap=True)
    console.print(urls["page_url"], highlight=False, soft_wrap=True)
