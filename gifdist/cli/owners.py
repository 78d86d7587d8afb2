"""``gifdist export`` and ``gifdist erase``: one owner's data, handed back or erased
(a GDPR request), with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from gifdist.cli.local import local_service
from gifdist.cli.output import console, err

owners_app = typer.Typer()

OwnerOpt = Annotated[
    str, typer.Option("--owner", help="A user id (see `users list`) or an operator key id.")
]


def _items_progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err
    )


@owners_app.command("export")
def export(
    owner: OwnerOpt,
    output: Annotated[Path, typer.Option("-o", "--output", help="The zip file to write.")],
) -> None:
    """Hand one owner's data back: every GIF, its metadata, links and numbers, as a zip."""
    with local_service() as service:
        total = len(service.owner_data.assets_of(owner))
        with _items_progress() as progress:
            task = progress.add_task("exporting", total=total)
            count = service.owner_data.export(owner, output, lambda _id: progress.advance(task))
    console.print(f"wrote {output}: {count} GIFs of {owner}")


@owners_app.command("erase")
def erase(
    owner: OwnerOpt,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Erase everything one owner has: their GIFs (links, numbers, unused bytes) and links."""
    if not yes:
        typer.confirm(f"Erase every GIF and link of {owner} for good?", abort=True)
    with local_service() as service, _items_progress() as progress:
        task = progress.add_task("erasing", total=service.owner_data.item_count(owner))
        done = service.owner_data.erase(owner, lambda _id: progress.advance(task))
    console.print(f"erased {done.assets} GIFs and {done.links} other links of {owner}")
