"""``gifdist moderation``: the review queue and decisions (the review desk's use cases)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from gifdist.cli.local import local_service
from gifdist.cli.output import console

moderation_app = typer.Typer(help="The review queue and decisions.", no_args_is_help=True)


@moderation_app.command("queue")
def moderation_queue(
    status: Annotated[str | None, typer.Option(help="flagged or pending (default: both).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """List GIFs waiting for a moderator, oldest first."""
    with local_service() as service:
        items = service.review.queue(status, limit, 0)
    table = Table("asset", "status", "title", "uploaded", "why")
    for item in items:
        why = item["report_reasons"] or item["moderation"].get("reasons") or []
        table.add_row(
            item["asset_id"],
            item["status"],
            item["title"][:40],
            item["created_at"][:16],
            "; ".join(str(w) for w in why)[:80],
        )
    console.print(table if items else "the queue is empty")


@moderation_app.command("decide")
def moderation_decide(
    asset_id: Annotated[str, typer.Argument(help="The asset to decide on.")],
    decision: Annotated[str, typer.Argument(help="approve, reject or flag.")],
    notes: Annotated[str, typer.Option(help="Why (kept in the audit trail).")] = "",
    reviewer: Annotated[
        str, typer.Option(help="Who decides (recorded in the audit trail).")
    ] = "cli",
) -> None:
    """Approve, reject or flag a GIF."""
    with local_service() as service:
        record = service.review.decide(asset_id, decision, reviewer, notes)
    console.print(f"{record.asset_id} is now {record.status.value}")
