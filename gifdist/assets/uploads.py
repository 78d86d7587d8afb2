"""Receiving upload bytes: stream to a temp file while hashing, with a hard size cap."""

from __future__ import annotations

import contextlib
import hashlib
import os
from typing import IO

from gifdist.errors import PayloadTooLarge


class UploadSink:
    """Accumulates one file's bytes in the blob store's temp area.

    ``write`` raises ``PayloadTooLarge`` as soon as the total passes ``max_bytes``
    (and the partial file is removed), so an oversized body is never kept.
    """

    def __init__(self, handle: IO[bytes], path: str, max_bytes: int) -> None:
        self._handle = handle
        self.path = path
        self.max_bytes = max_bytes
        self.size = 0
        self._hash = hashlib.sha256()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            self.discard()
            raise PayloadTooLarge(
                f"the file is larger than the {self.max_bytes}-byte limit",
                code="file_too_large",
            )
        self._hash.update(data)
        self._handle.write(data)

    def finish(self) -> str:
        """Close the file and return its SHA-256 hex digest."""
        self._handle.flush()
        self._handle.close()
        self.closed = True
        return self._hash.hexdigest()

    def discard(self) -> None:
        """Close and delete the partial file (idempotent)."""
        if not self.closed:
            self._handle.close()
            self.closed = True
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
