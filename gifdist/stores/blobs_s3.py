"""Blobs in an S3-compatible object store (AWS S3, MinIO, Ceph, R2…).

Selected by ``GIFDIST_STORAGE_URL=s3://bucket/prefix?endpoint_url=…&region=…``;
credentials come from the usual AWS variables or instance roles. Uploads are
spooled to a local temp file (hashed while received), then sent with boto3's
managed transfer, which switches to multipart above 8 MiB. Needs the ``[s3]``
extra (boto3).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlparse

from gifdist.errors import InvalidInput, ServiceUnavailable
from gifdist.stores.blobs import check_sha256, remove_old_files

MULTIPART_THRESHOLD = 8 * 1024 * 1024


class S3BlobStore:
    """Content-addressed blobs under ``s3://bucket/prefix/ab/cd/<sha256>``."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        spool_dir: str | os.PathLike[str],
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        try:
            import boto3
            from boto3.s3.transfer import TransferConfig
            from botocore.config import Config
        except ImportError:  # pragma: no cover - depends on the environment
            raise InvalidInput("s3:// storage needs boto3: pip install 'gifdist[s3]'") from None
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.spool_dir = Path(spool_dir)
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": 3, "mode": "standard"},
        )
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )
        self._transfer = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_THRESHOLD
        )

    def key_for(self, sha256: str, *, quarantined: bool = False) -> str:
        check_sha256(sha256)
        name = f"quarantine/{sha256}" if quarantined else f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def temp_file(self) -> tuple[IO[bytes], str]:
        fd, path = tempfile.mkstemp(dir=self.spool_dir, prefix="upload-", suffix=".part")
        return os.fdopen(fd, "w+b"), path

    def put_temp(self, temp_path: str, sha256: str, *, content_type: str = "image/gif") -> bool:
        try:
            if self.exists(sha256):
                return False
            self._call(
                self.client.upload_file,
                temp_path,
                self.bucket,
                self.key_for(sha256),
                ExtraArgs={
                    "ContentType": content_type,
                    "CacheControl": "public, max-age=31536000, immutable",
                },
                Config=self._transfer,
            )
            return True
        finally:
            Path(temp_path).unlink(missing_ok=True)

    def exists(self, sha256: str) -> bool:
        return self.size(sha256) is not None

    def size(self, sha256: str) -> int | None:
        """The stored size in bytes, or None if the blob is absent."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key_for(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise ServiceUnavailable(f"object store error: {exc}") from None
        except Exception as exc:
            raise ServiceUnavailable(f"object store unreachable: {exc}") from None
        return int(head["ContentLength"])

    def local_path(self, sha256: str) -> str | None:
        return None

    def copy_to(self, sha256: str, path: str) -> bool:
        size = self.size(sha256)
        if size is None:
            return False
        with open(path, "wb") as handle:
            if size:
                for chunk in self.iter_range(sha256, 0, size - 1):
                    handle.write(chunk)
        return True

    def iter_range(
        self, sha256: str, start: int, end: int, chunk_size: int = 256 * 1024
    ) -> Iterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) streamed from the store in chunks."""
        response = self._call(
            self.client.get_object,
            Bucket=self.bucket,
            Key=self.key_for(sha256),
            Range=f"bytes={start}-{end}",
        )
        body = response["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def presigned_url(self, sha256: str, expires_in: int = 3600) -> str:
        """A time-limited direct URL for clients (``GIFDIST_DELIVERY=redirect``)."""
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self.key_for(sha256)},
                ExpiresIn=expires_in,
            )
        )

    def quarantine(self, sha256: str) -> None:
        source = self.key_for(sha256)
        if not self.exists(sha256):
            return
        self._call(
            self.client.copy_object,
            Bucket=self.bucket,
            Key=self.key_for(sha256, quarantined=True),
            CopySource={"Bucket": self.bucket, "Key": source},
        )
        self._call(self.client.delete_object, Bucket=self.bucket, Key=source)

    def restore(self, sha256: str) -> bool:
        if self.exists(sha256):
            return True
        held = self.key_for(sha256, quarantined=True)
        try:
            self._call(
                self.client.copy_object,
                Bucket=self.bucket,
                Key=self.key_for(sha256),
                CopySource={"Bucket": self.bucket, "Key": held},
            )
        except ServiceUnavailable:  # not held in quarantine (or the store is down)
            return False
        self._call(self.client.delete_object, Bucket=self.bucket, Key=held)
        return True

    def purge_quarantined(self, older_than: float) -> int:
        cutoff = time.time() - older_than
        prefix = self.key_for("0" * 64, quarantined=True).rsplit("/", 1)[0] + "/"
        paginator = self.client.get_paginator("list_objects_v2")
        removed = 0
        for page in self._call(lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=prefix))):
            for item in page.get("Contents", []):
                if item["LastModified"].timestamp() < cutoff:
                    self._call(self.client.delete_object, Bucket=self.bucket, Key=item["Key"])
                    removed += 1
        return removed

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            raise OSError(f"bucket {self.bucket!r} is not reachable: {exc}") from None

    def delete(self, sha256: str) -> bool:
        if self.size(sha256) is None:
            return False
        self._call(self.client.delete_object, Bucket=self.bucket, Key=self.key_for(sha256))
        return True

    def remove_stale_temporaries(self, older_than: float = 3600.0) -> int:

        return remove_old_files(self.spool_dir, older_than)

    def discard_quarantined(self, sha256: str) -> bool:
        held = self.key_for(sha256, quarantined=True)
        try:
            self.client.head_object(Bucket=self.bucket, Key=held)
        except Exception:  # absent (404) or unreachable: nothing discarded
            return False
        self._call(self.client.delete_object, Bucket=self.bucket, Key=held)
        return True

    def names(self, older_than: float) -> Iterator[str]:
        cutoff = time.time() - older_than
        prefix = f"{self.prefix}/" if self.prefix else ""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in self._call(lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=prefix))):
            for item in page.get("Contents", []):
                name = str(item["Key"])[len(prefix) :]
                parts = name.split("/")
                if (
                    len(parts) == 3
                    and parts[0] != "quarantine"
                    and item["LastModified"].timestamp() <= cutoff
                ):
                    yield parts[2]

    @staticmethod
    def _call(method: Any, *args: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return method(*args, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise ServiceUnavailable(f"object store error: {exc}") from None


def s3_store_from_url(url: str, spool_dir: str | os.PathLike[str]) -> S3BlobStore:
    """Parse ``s3://bucket/prefix?endpoint_url=…&region=…`` into a store."""
    parsed = urlparse(url)
    if not parsed.netloc:
        raise InvalidInput("s3 storage URL needs a bucket: s3://bucket/prefix")
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    return S3BlobStore(
        parsed.netloc,
        parsed.path,
        spool_dir=spool_dir,
        endpoint_url=query.get("endpoint_url"),
        region=query.get("region"),
    )
