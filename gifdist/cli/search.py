"""``gifdist search``: find public GIFs, see what trends, rebuild the index."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from gifdist.cli.local import local_service
from gifdist.cli.output import console

search_app = typer.Typer(help="Full-text search over public GIFs.", no_args_is_help=True)

LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=50, help="Results to show.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the results as JSON.")]


@search_app.command("find")
def search_find(
    query: Annotated[str, typer.Argument(help='Words to find ("cats" finds "cat").')],
    limit: LimitOpt = 20,
    prefix: Annotated[
        bool, typer.Option("--prefix", help="The last word may be the start of a longer one.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Approved, public GIFs matching every word, best first (title, then tags, then
    description)."""
    with local_service() as service:
        page = service.search.search(query, limit=limit, prefix=prefix)
        rows = [service.catalog.get(a) for a in page.asset_ids]
        base = service.settings.base_url
    _show([r.to_json(base) for r in rows if r is not None], page.total, as_json)


@search_app.command("trending")
def search_trending(limit: LimitOpt = 20, as_json: JsonOpt = False) -> None:
    """Public GIFs by clicks and shares of the last 24 hours (newer ones count more)."""
    with local_service() as service:
        page = service.search.trending(limit=limit)
        rows = [service.catalog.get(a) for a in page.asset_ids]
        base = service.settings.base_url
    _show([r.to_json(base) for r in rows if r is not None], page.total, as_json)


@search_app.command("reindex")
def search_reindex() -> None:
    """Rebuild the search index from every approved asset (after changing
    GIFDIST_SEARCH_LANGUAGE, or to repair it)."""
    from gifdist.search import approved_pages, every_asset

    with local_service() as service:
        added = service.search.rebuild(every_asset(approved_pages(service.assets)))
    console.print(f"indexed {added} public GIFs")


def _show(found: list[dict[str, Any]], total: int, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps({"total": total, "results": found}))
        return
    if not found:
        console.print("no public GIFs match")
        return
    table = Table("asset", "title", "tags", "url", title=f"{len(found)} of {total}")
    for item in found:
        table.add_row(
            item["asset_id"], item["title"], ", ".join(item["tags"]), item["canonical_url"]
        )
    console.print(table)
