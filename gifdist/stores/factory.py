"""Stores from URLs: one factory per kind of backend (``file://``, ``s3://``)."""

from __future__ import annotations

import os
import tempfile
from urllib.parse import urlparse

from gifdist.assets.store import BlobStore
from gifdist.errors import InvalidInput
from gifdist.stores.blobs import LocalBlobStore


def open_blob_store(url: str, *, spool_dir: str | os.PathLike[str] | None = None) -> BlobStore:
    """Turn a storage URL into a store: ``file:///path`` or ``s3://bucket/prefix?…``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalBlobStore(parsed.path)
    if parsed.scheme == "s3":
        # boto3 is an optional extra: imported only when S3 is configured
        from gifdist.stores.blobs_s3 import s3_store_from_url

        return s3_store_from_url(url, spool_dir or tempfile.gettempdir())
    raise InvalidInput(f"unsupported storage URL scheme {parsed.scheme!r}")
