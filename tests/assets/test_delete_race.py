"""A delete racing an upload of the same bytes: the upload gets the bytes back intact
or a clean error, never an asset without bytes. Each interleaving the protocol
(``gifdist.assets.deletion``) must survive is forced here, then both run freely in
threads; SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from gif_factory import make_gif

from gifdist.errors import GifdistError
from gifdist.wiring import Service


@pytest.fixture
def service(tmp_path: Path, database_url: str) -> Iterator[Service]:
    svc = Service(make_settings(tmp_path, database_url))
    try:
        yield svc
    finally:
        svc.close()


def upload_as(service: Service, gif: Path, name: str) -> str:
    secret, _ = service.keys.create(name)
    meta = service.uploads.clean_metadata(name, "", "")
    return service.uploads.ingest_file(gif, meta, service.keys.verify(secret)).asset.asset_id


def intact(service: Service, asset_id: str, data: bytes) -> bool:
    record = service.assets.get(asset_id)
    path = service.blobs.local_path(record.sha256) if record else None
    return path is not None and Path(path).read_bytes() == data


def during(obj: Any, name: str, action: Callable[[], object], *, after: bool = True) -> None:
    """Run ``action`` once, right after (or before) ``obj.name`` runs."""
    original = getattr(obj, name)
    done = False

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nonlocal done
        if not after and not done:
            done = True
            action()
        result = original(*args, **kwargs)
        if after and not done:
            done = True
            action()
        return result

    setattr(obj, name, wrapped)


@pytest.fixture
def gif(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "same.gif"
    path.write_bytes(make_gif(seed=601))
    return path, path.read_bytes()


def test_an_upload_arriving_while_the_delete_moves_the_bytes_aside_keeps_them(
    service: Service, gif: tuple[Path, bytes]
) -> None:
    path, data = gif
    first = upload_as(service, path, "first")
    second: list[str] = []
    during(service.blobs, "quarantine", lambda: second.append(upload_as(service, path, "second")))
    service.editor.delete(first, None)
    assert intact(service, second[0], data)
    assert service.deletes.journal.pending() == []


def test_an_upload_arriving_after_the_delete_looked_again_puts_its_own_copy_back(
    service: Service, gif: tuple[Path, bytes]
) -> None:
    path, data = gif
    first = upload_as(service, path, "first")
    second: list[str] = []
    later = lambda: second.append(upload_as(service, path, "second"))  # noqa: E731
    during(service.blobs, "discard_quarantined", later, after=False)
    service.editor.delete(first, None)
    assert intact(service, second[0], data)


def test_an_upload_that_saw_the_bytes_stored_before_the_delete_removed_them_restores_them(
    service: Service, gif: tuple[Path, bytes]
) -> None:
    path, data = gif
    first = upload_as(service, path, "first")
    # the second upload finds the bytes stored (skips its put), then the whole delete
    # runs before its row goes in
    during(service.assets, "insert", lambda: service.editor.delete(first, None), after=False)
    second = upload_as(service, path, "second")
    assert service.assets.get(first) is None
    assert intact(service, second, data)


def test_deletes_and_uploads_of_the_same_bytes_in_threads_end_consistent(
    service: Service, gif: tuple[Path, bytes]
) -> None:
    """Bytes may be set aside for an instant while a delete checks again; what must
    never happen is an upload that returned and then has no bytes for good."""
    path, data = gif
    sha256 = hashlib.sha256(data).hexdigest()
    owners = [service.keys.create(f"owner-{i}")[0] for i in range(4)]
    meta = service.uploads.clean_metadata("race", "", "")
    errors: list[BaseException] = []
    kept: list[str] = []

    def churn(secret: str) -> None:
        key = service.keys.verify(secret)
        for _ in range(8):
            try:
                asset = service.uploads.ingest_file(path, meta, key).asset
                if not intact(service, asset.asset_id, data):  # set aside right now?
                    kept.append(asset.asset_id)  # keep it: checked once all is quiet
                    return
                service.editor.delete(asset.asset_id, key)
            except GifdistError:
                pass  # a clean refusal is allowed
            except BaseException as exc:  # anything else is a bug
                errors.append(exc)

    threads = [threading.Thread(target=churn, args=(s,)) for s in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    service.deletes.finish_pending()
    assert all(intact(service, asset_id, data) for asset_id in kept)
    keeper = upload_as(service, path, "keeper")
    assert intact(service, keeper, data)
    assert sorted(service.assets.assets_of_content(sha256)) == sorted([keeper, *kept])
    assert service.deletes.journal.pending() == []
