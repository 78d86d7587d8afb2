"""``gifdist renditions``: make the MP4, WebP and still renditions of stored GIFs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from gifdist.cli.errors import CliError
from gifdist.cli.local import local_service
from gifdist.cli.output import console, err
from gifdist.media.renditions import RenditionResult

renditions_app = typer.Typer(help="MP4, WebP and still renditions.", no_args_is_help=True)


@renditions_app.command("backfill")
def renditions_backfill(
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Also retry contents whose conversion failed.")
    ] = False,
) -> None:
    """Make renditions of every approved GIF that has none yet (GIFs uploaded before
    renditions existed), one at a time in this process, with a progress bar."""
    # imported here: the metrics module must load after `serve` configured it
    from gifdist.media.rendition_worker import backfill, video_available

    if not video_available():
        raise CliError("renditions need PyAV: pip install 'gifdist[video]'")
    with local_service() as service:
        maker = service.renditions
        contents = maker.store.approved_contents()
        if retry_failed:
            contents = list(dict.fromkeys([*contents, *maker.store.failed_contents()]))
        if not contents:
            console.print("every approved GIF has its renditions")
            return
        with _progress() as progress:
            task = progress.add_task("renditions", total=len(contents))

            def advance(sha256: str, outcome: RenditionResult | Exception | None) -> None:
                if isinstance(outcome, Exception):
                    err.print(f"[yellow]{sha256[:16]}[/yellow]: {outcome}", highlight=False)
                progress.advance(task)

            counts = backfill(maker, contents, retry_failed=retry_failed, progress=advance)
    console.print(
        f"made renditions of {counts['made']} GIFs; {counts['skipped']} already done or "
        f"taken by another process; {counts['failed']} failed"
    )
    if counts["failed"]:
        raise typer.Exit(1)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
    )
