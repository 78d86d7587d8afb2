"""``gifdist assets list|show|edit|delete`` and ``gifdist links list|edit|delete``:
the same use cases as the API, on the local data directory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from gifdist.assets.library import SORTS, AssetQuery
from gifdist.cli.commands import app, assets_app, console, err, fail, links_app, local_service
from gifdist.config import Settings
from gifdist.errors import GifdistError
from gifdist.sharelinks.qr import qr_image

T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _call(action: Callable[[Any], T]) -> T:
    """Run ``action(service)`` on the local data dir; a refusal is a one-line error, exit 1."""
    _require_data()
    with local_service() as service:
        try:
            return action(service)
        except GifdistError as exc:
            raise fail(exc.message) from None


def _require_data() -> None:
    """Managing GIFs where there are none is a mistake: never create an empty data dir."""
    settings = Settings()
    if settings.database_url is None and not settings.data_dir.exists():
        raise fail(
            f"no gifdist data in {settings.data_dir.resolve()} (set GIFDIST_DATA_DIR, or run "
            "`gifdist db upgrade` to start a new one)",
            code=2,
        )
    err.print(f"using {settings.resolved_database_url.split('?')[0]}", highlight=False)


@assets_app.command("list")
def assets_list(
    status: Annotated[
        str | None, typer.Option(help="pending, approved, flagged, rejected.")
    ] = None,
    tag: Annotated[str | None, typer.Option(help="Only GIFs with this tag.")] = None,
    q: Annotated[str | None, typer.Option("--q", help="Words in the title or tags.")] = None,
    sort: Annotated[str, typer.Option(help=" | ".join(SORTS))] = "new",
    limit: Annotated[int, typer.Option(help="At most this many (1–100).")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List GIFs with their all-time views, plays, clicks and CTR."""
    query = AssetQuery(status=status, tag=tag, text=q, sort=sort, limit=limit)
    page = _call(lambda s: (s.library.list(None, query), s.settings.base_url))
    listed, base = page
    rows = [{**record.to_json(base), **metrics} for record, metrics in listed.items]
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
def assets_show(asset_id: Annotated[str, typer.Argument(help="The asset.")]) -> None:
    """Print one GIF's description as JSON."""
    body = _call(lambda s: s.catalog.require(asset_id).to_json(s.settings.base_url))
    console.print_json(json.dumps(body))


@assets_app.command("edit")
def assets_edit(
    asset_id: Annotated[str, typer.Argument(help="The asset.")],
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    tags: Annotated[str | None, typer.Option(help="New tags, comma-separated.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
) -> None:
    """Change a GIF's title, tags or description (checked like upload text)."""
    record = _call(
        lambda s: s.editor.edit(asset_id, None, title=title, tags=tags, description=description)
    )
    console.print(f"{record.asset_id}: {record.title!r} [{', '.join(record.tags)}]")


@assets_app.command("delete")
def assets_delete(
    asset_id: Annotated[str, typer.Argument(help="The asset.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Delete a GIF for good: its links, numbers and (when unused) bytes; URLs answer 410."""
    if not yes:
        typer.confirm(f"Delete {asset_id} and all its links for good?", abort=True)
    _call(lambda s: s.editor.delete(asset_id, None))
    console.print(f"deleted {asset_id}")


@links_app.command("list")
def links_list(
    asset_id: Annotated[str | None, typer.Argument(help="Only this GIF's links.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List short links (of one GIF, or all)."""
    rows = _call(lambda s: s.sharing.list(None, asset_id))
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
    code: Annotated[str, typer.Argument(help="The short code.")],
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    tags: Annotated[str | None, typer.Option(help="New tags, comma-separated.")] = None,
    via: Annotated[str | None, typer.Option(help="New platform.")] = None,
) -> None:
    """Change a link's title, tags or platform."""
    link = _call(lambda s: s.sharing.edit(code, None, title=title, tags=tags, via=via))
    console.print(f"{link['short_code']}: {link['title']!r} via {link['via'] or '-'}")


@links_app.command("delete")
def links_delete(
    code: Annotated[str, typer.Argument(help="The short code.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Delete a short link: it answers 410 Gone from now on."""
    if not yes:
        typer.confirm(f"Delete the link {code}?", abort=True)
    _call(lambda s: s.sharing.delete(code, None))
    console.print(f"deleted {code}")


@links_app.command("qr")
def links_qr(
    code: Annotated[str, typer.Argument(help="The short code.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="FILE.svg or FILE.png (by its extension).")
    ],
) -> None:
    """Write a link's QR code to a file (SVG or PNG)."""
    kind = output.suffix.lower().lstrip(".")
    if kind not in ("svg", "png"):
        raise fail("the output file must end in .svg or .png", code=2)
    link = _call(lambda s: s.sharing.get(code))
    if link is None:
        raise fail(f"no short link {code!r}")
    url = _call(lambda s: s.sharing.generator.create_short_url(link["short_code"]))
    output.write_bytes(qr_image(url, kind))
    console.print(f"wrote {output} ({url})")


def _items_progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    )


@app.command("export")
def export(
    owner: Annotated[
        str, typer.Option("--owner", help="A user id (see `users list`) or an operator key id.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="The zip file to write.")],
) -> None:
    """Hand one owner's data back: every GIF, its metadata, links and numbers, as a zip."""
    _require_data()
    with local_service() as service:
        records = service.owner_data.assets_of(owner)
        with _items_progress() as progress:
            task = progress.add_task("exporting", total=len(records))
            count = service.owner_data.export(owner, output, lambda _id: progress.advance(task))
    console.print(f"wrote {output}: {count} GIFs of {owner}")


@app.command("erase")
def erase(
    owner: Annotated[
        str, typer.Option("--owner", help="A user id (see `users list`) or an operator key id.")
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Erase everything one owner has: their GIFs (links, numbers, unused bytes) and links."""
    if not yes:
        typer.confirm(f"Erase every GIF and link of {owner} for good?", abort=True)
    _require_data()
    with local_service() as service:
        total = len(service.owner_data.assets_of(owner))
        total += len(service.links.store.list_for_owner(owner))
        with _items_progress() as progress:
            task = progress.add_task("erasing", total=total)
            done = service.owner_data.erase(owner, lambda _id: progress.advance(task))
    console.print(f"erased {done.assets} GIFs and {done.links} other links of {owner}")
