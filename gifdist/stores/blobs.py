"""Content-addressed blob storage.

Blobs are named by their SHA-256 and never change, so a name is either absent or
complete: bytes are written to a temporary file, fsync'd and renamed into place,
and a crash leaves at most a stray temporary file that start-up removes.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from gifdist.errors import InvalidInput

_SHA256 = re.compile(r"[0-9a-f]{64}")


class LocalBlobStore:
    """Blobs under ``root/ab/cd/<sha256>``; temporaries in ``root/tmp``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.quarantine_dir = self.root / "quarantine"
        for directory in (self.root, self.tmp_dir, self.quarantine_dir):
            directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        """Where the blob named ``sha256`` lives (validated: no path tricks)."""
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def temp_file(self) -> tuple[IO[bytes], str]:
        fd, path = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-", suffix=".part")
        return os.fdopen(fd, "w+b"), path

    def put_temp(self, temp_path: str, sha256: str, *, content_type: str = "image/gif") -> bool:
        target = self.path_for(sha256)
        if target.exists():
            os.unlink(temp_path)
            return False
        with open(temp_path, "rb") as handle:
            os.fsync(handle.fileno())
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp_path, target)
        _fsync_dir(target.parent)
        return True

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def size(self, sha256: str) -> int | None:
        try:
            return self.path_for(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def local_path(self, sha256: str) -> str | None:
        path = self.path_for(sha256)
        return str(path) if path.is_file() else None

    def copy_to(self, sha256: str, path: str) -> bool:
        source = self.local_path(sha256)
        if source is None:
            return False
        shutil.copyfile(source, path)
        return True

    def iter_range(
        self, sha256: str, start: int, end: int, chunk_size: int = 256 * 1024
    ) -> Iterator[bytes]:
        with open(self.path_for(sha256), "rb") as handle:
            handle.seek(start)
            left = end - start + 1
            while left > 0 and (chunk := handle.read(min(chunk_size, left))):
                left -= len(chunk)
                yield chunk

    def presigned_url(self, sha256: str, expires_in: int = 3600) -> str | None:
        return None  # local files are served by gifdist itself

    def quarantine(self, sha256: str) -> None:
        source = self.path_for(sha256)
        if source.exists():
            target = self.quarantine_dir / sha256
            os.replace(source, target)
            os.utime(target)  # the retention clock starts now

    def purge_quarantined(self, older_than: float) -> int:
        return remove_old_files(self.quarantine_dir, older_than)

    def restore(self, sha256: str) -> bool:
        held = self.quarantine_dir / sha256
        if not held.is_file():
            return self.exists(sha256)
        target = self.path_for(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(held, target)
        return True

    def check(self) -> None:
        with tempfile.NamedTemporaryFile(dir=self.tmp_dir, prefix="ready-"):
            pass

    def delete(self, sha256: str) -> bool:
        try:
            self.path_for(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def remove_stale_temporaries(self, older_than: float = 3600.0) -> int:
        """Delete temp files a crash left behind (see ``remove_old_files``)."""
        return remove_old_files(self.tmp_dir, older_than)

    def discard_quarantined(self, sha256: str) -> bool:
        check_sha256(sha256)
        try:
            (self.quarantine_dir / sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def names(self, older_than: float) -> Iterator[str]:
        cutoff = time.time() - older_than
        for path in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
            try:
                old = path.stat().st_mtime <= cutoff
            except FileNotFoundError:  # removed meanwhile
                continue
            if old and _SHA256.fullmatch(path.name):
                yield path.name


def check_sha256(sha256: str) -> None:
    """Raise ``InvalidInput`` unless ``sha256`` is a lower-case SHA-256 hex digest."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise InvalidInput("blob names are lower-case SHA-256 hex digests")


def remove_old_files(directory: Path, older_than: float) -> int:
    """Delete entries of ``directory`` untouched for ``older_than`` seconds.

    Files that other worker processes are writing right now are recent, so they
    are left alone. Returns how many entries were removed.
    """
    cutoff = time.time() - older_than
    removed = 0
    for entry in directory.iterdir():
        try:
            if entry.stat().st_mtime >= cutoff:
                continue
            entry.unlink() if entry.is_file() else shutil.rmtree(entry)
        except FileNotFoundError:
            continue
        removed += 1
    return removed


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
