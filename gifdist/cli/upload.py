"""``gifdist upload``: upload GIFs (local data dir or ``--server``), one short link each."""

from __future__ import annotations

from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from gifdist.cli.errors import CliError, UsageError, message_for
from gifdist.cli.output import console
from gifdist.cli.remote import KeyOpt, RemoteServer, ServerOpt, local_or_remote, segment
from gifdist.errors import GifdistError

if TYPE_CHECKING:
    from gifdist.assets.model import AssetMetadata
    from gifdist.wiring import Service

upload_app = typer.Typer()

Fields = dict[str, str]  # title, tags, description as given


class LocalUploads:
    def __init__(self, service: Service) -> None:
        self.service = service

    def upload(self, path: Path, fields: Fields, progress: Progress, task: Any) -> dict[str, Any]:
        uploads = self.service.uploads
        meta: AssetMetadata = uploads.clean_metadata(
            fields["title"], fields.get("tags"), fields.get("description")
        )
        result = uploads.ingest_file(path, meta, owner=None)
        link = self.service.sharing.create(result.asset.asset_id)
        asset = result.asset.to_json(self.service.settings.base_url)
        asset["already_uploaded"] = not result.created
        return {"asset": asset, "short_url": link["short_url"]}


class RemoteUploads:
    def __init__(self, api: RemoteServer) -> None:
        self.api = api

    def upload(self, path: Path, fields: Fields, progress: Progress, task: Any) -> dict[str, Any]:
        with path.open("rb") as handle:
            reader = _ProgressReader(handle, progress, task)
            asset = self.api.call(
                "POST",
                "assets",
                data=fields,
                files={"file": (path.name, reader, "image/gif")},
                timeout=120,
            )
        link = self.api.call("POST", f"assets/{segment(asset['asset_id'])}/links", json={})
        return {"asset": asset, "short_url": link["short_url"]}


class _ProgressReader:
    """A file wrapper that advances a progress bar as httpx streams it."""

    def __init__(self, handle: IO[bytes], progress: Progress, task: Any) -> None:
        self.handle, self.progress, self.task = handle, progress, task

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.progress.advance(self.task, len(data))
        return data


@upload_app.command()
def upload(
    files: Annotated[list[Path], typer.Argument(help="GIF files to upload.")],
    title: Annotated[
        str | None, typer.Option(help="Title for every file (default: file name).")
    ] = None,
    tags: Annotated[str | None, typer.Option(help="Comma-separated tags.")] = None,
    description: Annotated[str | None, typer.Option(help="Description.")] = None,
    server: ServerOpt = None,
    key: KeyOpt = None,
) -> None:
    """Upload GIFs and print each one's short URL; exit 1 if any file was refused."""
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise UsageError(f"not a file: {', '.join(missing)}")
    failures = 0
    with local_or_remote(server, key, LocalUploads, RemoteUploads) as uploads, _progress() as bar:
        for path in files:
            fields = {"title": title if title is not None else path.stem}
            fields |= {k: v for k, v in (("tags", tags), ("description", description)) if v}
            task = bar.add_task(path.name, total=path.stat().st_size)
            try:
                result = uploads.upload(path, fields, bar, task)
            except (GifdistError, CliError) as exc:
                if isinstance(exc, CliError):  # the server is gone: no point going on
                    raise
                failures += 1
                bar.console.print(f"[red]✗[/red] {path}: {message_for(exc)}", highlight=False)
                continue
            bar.update(task, completed=path.stat().st_size)
            _print_uploaded(bar, path, result)
    if failures:
        raise CliError(f"{failures} of {len(files)} files were refused")


def _print_uploaded(bar: Progress, path: Path, result: dict[str, Any]) -> None:
    asset = result["asset"]
    again = " — uploaded before, unchanged" if asset.get("already_uploaded") else ""
    bar.console.print(
        f"[green]✓[/green] {path}: {result['short_url']}  "
        f"({asset['status']}, {asset['canonical_url']}){again}",
        highlight=False,
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        transient=False,
    )
