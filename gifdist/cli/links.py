"""``gifdist links``: create, list, edit and delete short links and write their QR
codes, on the local data dir or through ``--server``."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from gifdist.cli.errors import UsageError
from gifdist.cli.output import console
from gifdist.cli.remote import KeyOpt, RemoteServer, ServerOpt, local_or_remote, segment
from gifdist.errors import NotFound

if TYPE_CHECKING:
    from gifdist.wiring import Service

links_app = typer.Typer(
    help="Create, list, edit and delete short links; their QR codes.", no_args_is_help=True
)

CodeArg = Annotated[str, typer.Argument(help="The short code.")]
TitleOpt = Annotated[str | None, typer.Option(help="Title shown in link previews.")]
TagsOpt = Annotated[str | None, typer.Option(help="Tags, comma-separated.")]
ViaOpt = Annotated[
    str | None, typer.Option(help="slack, discord, teams, twitter, facebook or web.")
]


class LocalLinks:
    """The share-link use cases on the local data dir (acting as the operator)."""

    def __init__(self, service: Service) -> None:
        self.sharing = service.sharing

    def create(self, asset_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.sharing.create(asset_id, **fields)

    def list(self, asset_id: str | None) -> list[dict[str, Any]]:
        return self.sharing.list(None, asset_id)

    def edit(self, code: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.sharing.edit(code, None, **fields)

    def delete(self, code: str) -> None:
        self.sharing.delete(code, None)

    def qr(self, code: str, kind: str) -> tuple[bytes, str]:
        from gifdist.sharelinks.qr import qr_image

        link = self.sharing.get(code)
        if link is None:
            raise NotFound(f"no short link {code[:64]!r}")
        url = self.sharing.generator.create_short_url(link["short_code"])
        return qr_image(url, kind), url


class RemoteLinks:
    """The same through a server's API, as the key's owner."""

    def __init__(self, api: RemoteServer) -> None:
        self.api = api

    def create(self, asset_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return dict(self.api.call("POST", f"assets/{segment(asset_id)}/links", json=fields))

    def list(self, asset_id: str | None) -> list[dict[str, Any]]:
        path = f"assets/{segment(asset_id)}/links" if asset_id else "links"
        return list(self.api.call("GET", path)["links"])

    def edit(self, code: str, fields: dict[str, Any]) -> dict[str, Any]:
        return dict(self.api.call("PATCH", f"links/{segment(code)}", json=fields))

    def delete(self, code: str) -> None:
        self.api.call("DELETE", f"links/{segment(code)}")

    def qr(self, code: str, kind: str) -> tuple[bytes, str]:
        link = self.api.call("GET", f"links/{segment(code)}")
        url = str(link["short_url"])
        image = self.api.send("GET", f"{self.api.base}/s/{segment(link['short_code'])}.{kind}")
        return image.content, url


def _links(server: str | None, key: str | None) -> AbstractContextManager[LocalLinks | RemoteLinks]:
    return local_or_remote(server, key, LocalLinks, RemoteLinks)


def _given(**fields: str | None) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


@links_app.command("create")
def links_create(
    asset_id: Annotated[str, typer.Argument(help="The asset to link to.")],
    title: TitleOpt = None,
    tags: TagsOpt = None,
    via: ViaOpt = None,
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """Create a short link for an asset and print its URL."""
    with _links(server, key) as links:
        link = links.create(asset_id, _given(title=title, tags=tags, via=via))
    console.print(link["short_url"], highlight=False)


@links_app.command("list")
def links_list(
    asset_id: Annotated[str | None, typer.Argument(help="Only this GIF's links.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """List short links (of one GIF, or all)."""
    with _links(server, key) as links:
        rows = links.list(asset_id)
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table("code", "asset", "via", "title", "short url")
    for row in rows:
        table.add_row(
            row["short_code"],
            row["asset_id"],
            row["via"] or "",
            row["title"][:30],
            row["short_url"],
        )
    console.print(table)


@links_app.command("edit")
def links_edit(
    code: CodeArg,
    title: TitleOpt = None,
    tags: TagsOpt = None,
    via: ViaOpt = None,
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """Change a link's title, tags or platform."""
    fields = _given(title=title, tags=tags, via=via)
    if not fields:
        raise UsageError("give at least one of --title, --tags and --via")
    with _links(server, key) as links:
        link = links.edit(code, fields)
    via = link["via"] or "-"
    console.print(
        f"{link['short_code']}: {link['title']!r} via {via}", markup=False, highlight=False
    )


@links_app.command("delete")
def links_delete(
    code: CodeArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """Delete a short link: it answers 410 Gone from now on."""
    if not yes:
        typer.confirm(f"Delete the link {code}?", abort=True)
    with _links(server, key) as links:
        links.delete(code)
    console.print(f"deleted {code}")


@links_app.command("qr")
def links_qr(
    code: CodeArg,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="FILE.svg or FILE.png (by its extension).")
    ],
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """Write a link's QR code to a file (SVG or PNG)."""
    kind = output.suffix.lower().lstrip(".")
    if kind not in ("svg", "png"):
        raise UsageError("the output file must end in .svg or .png")
    with _links(server, key) as links:
        image, url = links.qr(code, kind)
    output.write_bytes(image)
    console.print(f"wrote {output} ({url})")
