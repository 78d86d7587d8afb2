"""``gifdist audit``: verify and export the moderation audit trail."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from gifdist.cli.errors import CliError, UsageError
from gifdist.cli.local import local_service
from gifdist.cli.output import console, err

audit_app = typer.Typer(help="The moderation audit trail.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain; exit 1 if an entry was altered or removed."""
    with local_service() as service:
        result = service.review.verify()
    if result["valid"]:
        console.print(f"audit trail intact: {result['entries']} entries, chain verified")
        return
    raise CliError(
        f"audit trail TAMPERED: entry #{result['first_bad_index']} "
        f"({result['first_bad_audit_id']}) does not match the chain "
        f"({result['entries']} entries)"
    )


@audit_app.command("export")
def audit_export(
    start: Annotated[str | None, typer.Option("--from", help="ISO 8601 or epoch seconds.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="ISO 8601 or epoch seconds.")] = None,
    asset_id: Annotated[str | None, typer.Option("--asset", help="Only this asset.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Export audit entries (oldest first) in a time range."""
    from gifdist.analytics.reports import parse_time
    from gifdist.moderation.review import audit_csv

    if fmt not in ("json", "csv"):
        raise UsageError("--format must be json or csv")
    window = (parse_time(start, "--from"), parse_time(end, "--to"))
    with local_service() as service:
        entries = service.review.audit(asset_id=asset_id, start=window[0], end=window[1], limit=0)
    text = (
        audit_csv(entries)
        if fmt == "csv"
        else json.dumps([e.to_dict() for e in entries], indent=2) + "\n"
    )
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        err.print(f"wrote {len(entries)} entries to {output}")
