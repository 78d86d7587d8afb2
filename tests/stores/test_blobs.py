"""Blob stores: the local directory and S3 (a real S3 API server on loopback)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from servers import free_port

from gifdist.errors import InvalidInput
from gifdist.stores.blobs import LocalBlobStore
from gifdist.stores.blobs_s3 import S3BlobStore
from gifdist.stores.factory import open_blob_store


def put(store, data: bytes) -> str:  # type: ignore[no-untyped-def]
    handle, path = store.temp_file()
    with handle:
        handle.write(data)
    sha = hashlib.sha256(data).hexdigest()
    assert store.put_temp(path, sha)
    assert not os.path.exists(path)
    return sha


def test_local_store_is_content_addressed_and_atomic(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    sha = put(store, b"GIF89a payload")
    assert store.exists(sha)
    assert Path(store.local_path(sha)).read_bytes() == b"GIF89a payload"  # type: ignore[arg-type]
    handle, again = store.temp_file()
    handle.close()
    assert store.put_temp(again, sha) is False  # already stored: temp removed, blob untouched
    assert not os.path.exists(again)
    assert list(store.tmp_dir.iterdir()) == []


@pytest.mark.parametrize("name", ["../../etc/passwd", "ABC", "", "a" * 63, "g" * 64])
def test_local_store_refuses_non_hash_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInput):
        LocalBlobStore(tmp_path).path_for(name)


def test_quarantine_moves_bytes_out_of_the_public_store(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    sha = put(store, b"bad bytes")
    store.quarantine(sha)
    assert not store.exists(sha)
    assert (store.quarantine_dir / sha).read_bytes() == b"bad bytes"


def test_only_old_temporaries_are_removed(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    old_handle, old = store.temp_file()
    old_handle.close()
    new_handle, new = store.temp_file()
    new_handle.close()
    past = time.time() - 7200
    os.utime(old, (past, past))
    assert store.remove_stale_temporaries() == 1
    assert not os.path.exists(old) and os.path.exists(new)


def test_s3_store_round_trip_with_ranges(s3_store: S3BlobStore) -> None:
    data = bytes(range(256)) * 40
    sha = put(s3_store, data)
    assert s3_store.exists(sha) and s3_store.size(sha) == len(data)
    assert s3_store.local_path(sha) is None
    assert b"".join(s3_store.iter_range(sha, 100, 1099)) == data[100:1100]
    assert s3_store.key_for(sha) == f"gifs/{sha[:2]}/{sha[2:4]}/{sha}"
    s3_store.check()


def test_s3_store_dedupes_and_multiparts_large_files(s3_store: S3BlobStore) -> None:
    data = os.urandom(9 * 1024 * 1024)
    sha = put(s3_store, data)
    handle, path = s3_store.temp_file()
    handle.close()
    assert s3_store.put_temp(path, sha) is False
    assert b"".join(s3_store.iter_range(sha, 0, len(data) - 1)) == data
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key=s3_store.key_for(sha))
    assert "-" in head["ETag"]  # a multipart upload's ETag carries the part count


def test_s3_quarantine_and_presigned_url(s3_store: S3BlobStore) -> None:
    import httpx

    sha = put(s3_store, b"GIF89a quarantined")
    url = s3_store.presigned_url(sha, expires_in=60)
    assert httpx.get(url).content == b"GIF89a quarantined"
    s3_store.quarantine(sha)
    assert not s3_store.exists(sha)


def test_unreachable_s3_is_not_ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    store = open_blob_store(
        f"s3://b?endpoint_url=http://127.0.0.1:{free_port()}&region=us-east-1", spool_dir=tmp_path
    )
    with pytest.raises(OSError):
        store.check()


def test_s3_quarantined_blobs_are_purged_by_age(s3_store: S3BlobStore) -> None:
    sha = put(s3_store, b"GIF89a evidence")
    s3_store.quarantine(sha)
    assert s3_store.purge_quarantined(3600) == 0  # recent: kept for appeal
    assert s3_store.purge_quarantined(-5) == 1  # everything older than five seconds from now
    assert s3_store.restore(sha) is False


def test_local_quarantine_purge_by_age(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    sha = put(store, b"GIF89a evidence")
    store.quarantine(sha)
    assert store.purge_quarantined(3600) == 0
    assert store.purge_quarantined(-5) == 1
    assert store.restore(sha) is False


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_stored_names_skip_quarantine_and_young_blobs_and_a_quarantined_copy_can_be_discarded(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = (
        LocalBlobStore(tmp_path / "blobs")
        if kind == "local"
        else request.getfixturevalue("s3_store")
    )
    kept, held = put(store, b"GIF89a kept"), put(store, b"GIF89a held")
    store.quarantine(held)
    assert sorted(store.names(older_than=-60)) == [kept]
    assert list(store.names(older_than=3600)) == []  # just written: maybe an upload in flight
    assert store.discard_quarantined(held) is True
    assert store.discard_quarantined(held) is False
    assert store.restore(held) is False and not store.exists(held)
    assert store.discard_quarantined(kept) is False and store.exists(kept)
