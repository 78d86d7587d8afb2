"""``gifdist stats``: an asset's or a short link's numbers, per platform."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from gifdist.cli.local import local_service
from gifdist.cli.output import console
from gifdist.errors import NotFound

stats_app = typer.Typer()


@stats_app.command("stats")
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
    from gifdist.analytics.reports import make_window, series_csv

    with local_service() as service:
        window = make_window(start, end, interval)
        if link:
            found = service.sharing.get(target)
            if found is None:
                raise NotFound(f"no short link {target[:64]!r}")
            report = service.stats.report(window, short_code=found["short_code"])
        else:
            record = service.catalog.require(target)
            report = service.stats.report(window, asset_id=record.asset_id)
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
