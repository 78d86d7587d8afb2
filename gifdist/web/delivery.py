"""Sending GIF bytes on the hot path: preconditions, then Range-aware file sending.

Preconditions follow RFC 9110 §13.2.2 (If-Match → 412, If-None-Match → 304,
If-Modified-Since → 304 only without If-None-Match). The body is sent by
Starlette's ``FileResponse``, which handles ``Range``/``If-Range`` (single and
multipart/byteranges, 416 with ``bytes */len``), HEAD, and the ASGI
``http.response.pathsend`` extension, so on granian the bytes never pass
through Python.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

import anyio
from starlette.responses import FileResponse, Response
from starlette.types import Receive, Scope, Send

from gifdist.cdn.http import UNSATISFIABLE, parse_ranges
from gifdist.errors import ServiceUnavailable
from gifdist.web.errors import error_body

log = logging.getLogger("gifdist.delivery")


BYTE_HEADERS = {
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
}


@dataclass(frozen=True, slots=True)
class FileRepresentation:
    """An immutable file and the validators computed once for it.

    ``whole_headers`` are the headers of a whole-file 200 but ``Cache-Control``
    (which depends on the request's signature), encoded once.
    """

    path: str
    size: int
    etag: str  # strong and quoted
    last_modified: float  # epoch seconds
    content_type: str
    last_modified_http: str = field(init=False)
    stat: os.stat_result = field(init=False)
    whole_headers: tuple[tuple[bytes, bytes], ...] = field(init=False)

    def __post_init__(self) -> None:
        modified = formatdate(self.last_modified, usegmt=True)
        object.__setattr__(self, "last_modified_http", modified)
        mtime = int(self.last_modified)
        object.__setattr__(
            self, "stat", os.stat_result((0o100644, 0, 0, 1, 0, 0, self.size, mtime, mtime, mtime))
        )
        headers = {
            "etag": self.etag,
            "last-modified": modified,
            "accept-ranges": "bytes",
            **BYTE_HEADERS,
            "content-type": self.content_type,
            "content-length": str(self.size),
        }
        raw = tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())
        object.__setattr__(self, "whole_headers", raw)


# Request headers that make an answer other than the whole file possible.
_CONDITIONAL = frozenset({b"range", b"if-match", b"if-none-match", b"if-modified-since"})


def is_conditional(headers: list[tuple[bytes, bytes]]) -> bool:
    """True when the request has a Range or a precondition (the full rules apply)."""
    return any(key in _CONDITIONAL for key, _ in headers)


SMALL_FILE_BYTES = 64 * 1024
SMALL_FILES_BUDGET = 64 * 1024 * 1024


class SmallFiles:
    """Small immutable files kept in memory, least recently used out past a byte budget.

    On granian a body from memory goes out in half the time of ``pathsend`` (which
    opens and reads the file on a blocking thread each time) below about 64 KB; above
    that, and for files not kept, ``pathsend`` is used (the server reads the file off
    the Python thread; granian has no ``sendfile``).
    """

    def __init__(self, max_file_bytes: int, budget: int) -> None:
        self.max_file_bytes = max_file_bytes
        self.budget = budget
        self.size = 0
        self._files: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str) -> bytes | None:
        body = self._files.get(path)
        # a few files cannot reach the budget: keep their order as it is (no lock)
        if body is not None and len(self._files) > self.budget // max(self.max_file_bytes, 1):
            with self._lock:
                if path in self._files:
                    self._files.move_to_end(path)
        return body

    def load(self, path: str) -> bytes | None:
        """Read ``path`` into memory (off the event loop); None if it is gone or too big."""
        try:
            with open(path, "rb") as handle:
                body = handle.read(self.max_file_bytes + 1)
        except OSError:
            return None
        if len(body) > self.max_file_bytes:
            return None
        with self._lock:
            if path not in self._files:
                self._files[path] = body
                self.size += len(body)
            while self.size > self.budget and self._files:
                _, dropped = self._files.popitem(last=False)
                self.size -= len(dropped)
        return body


def _etag_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _weak_match(header: str, etag: str) -> bool:
    tags = _etag_list(header)
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


def _not_modified_since(header: str, last_modified: float) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since is None or since.tzinfo is None:
        return False
    return int(last_modified) <= since.timestamp()


def precondition_status(
    headers: dict[str, str], rep: FileRepresentation | StoredRepresentation
) -> int | None:
    """412 or 304 when a conditional header says so, else None (send the file)."""
    if_match = headers.get("if-match")
    if if_match is not None:
        tags = _etag_list(if_match)
        if "*" not in tags and rep.etag not in tags:
            return 412
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return 304 if _weak_match(if_none_match, rep.etag) else None
    since = headers.get("if-modified-since")
    if since is not None and _not_modified_since(since, rep.last_modified):
        return 304
    return None


def _normalise_range(
    scope: Scope, request_headers: dict[str, str], rep: FileRepresentation
) -> tuple[Scope, int | None]:
    """Hand ``FileResponse`` only a clean Range header (our parser decides).

    Invalid or amplifying headers are dropped (a full 200, RFC 9110 §14.2),
    unsatisfiable ones answer 416, and valid ones are rewritten as their sorted,
    coalesced ranges.
    """
    header = request_headers.get("range")
    if header is None or scope["method"] != "GET":
        return scope, None
    ranges = parse_ranges(header, rep.size)
    if ranges is UNSATISFIABLE:
        if_range = request_headers.get("if-range")
        if if_range is None or if_range in (rep.etag, rep.last_modified_http):
            return scope, 416
        ranges = None
    kept = [(k, v) for k, v in scope["headers"] if k != b"range"]
    if isinstance(ranges, list):
        canonical = "bytes=" + ",".join(f"{start}-{end}" for start, end in ranges)
        kept.append((b"range", canonical.encode()))
    return {**scope, "headers": kept}, None


async def _preconditions(
    scope: Scope,
    receive: Receive,
    send: Send,
    rep: FileRepresentation | StoredRepresentation,
    cache_control: str,
) -> tuple[dict[str, str], dict[str, str], int | None]:
    """The request's headers, the response's byte headers, and the status if a
    conditional header already answered the request (304 or 412, sent here)."""
    request_headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    headers = {
        "etag": rep.etag,
        "last-modified": rep.last_modified_http,
        "cache-control": cache_control,
        "accept-ranges": "bytes",
        **BYTE_HEADERS,
    }
    status = precondition_status(request_headers, rep)
    if status is not None:
        answer = {"cache-control": "no-store"} if status == 412 else headers
        await Response(status_code=status, headers=answer)(scope, receive, send)
    return request_headers, headers, status


async def send_file(
    scope: Scope,
    receive: Receive,
    send: Send,
    rep: FileRepresentation,
    *,
    cache_control: str,
) -> int:
    """Answer a GET/HEAD for ``rep``; returns the status code sent."""
    request_headers, headers, answered = await _preconditions(
        scope, receive, send, rep, cache_control
    )
    if answered is not None:
        return answered
    if not os.path.exists(rep.path):
        await Response("gone", status_code=404, headers={"cache-control": "no-store"})(
            scope, receive, send
        )
        return 404
    if "range" not in request_headers and PATHSEND in scope.get("extensions", {}):
        return await _send_whole(scope, send, rep, headers)
    scope, range_status = _normalise_range(scope, request_headers, rep)
    if range_status == 416:
        headers = {**headers, "content-range": f"bytes */{rep.size}"}
        await Response(status_code=416, headers=headers)(scope, receive, send)
        return 416
    response = FileResponse(
        rep.path, media_type=rep.content_type, headers=headers, stat_result=rep.stat
    )
    sent = {"status": 200}

    async def recording_send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
        await send(message)

    await response(scope, receive, recording_send)
    return sent["status"]


PATHSEND = "http.response.pathsend"


async def _send_whole(
    scope: Scope, send: Send, rep: FileRepresentation, headers: dict[str, str]
) -> int:
    """The common case, a whole GIF to a server with ``pathsend``: the headers are
    ours already, so skip ``FileResponse`` (which would recompute them) and let the
    server send the file without it passing through Python."""
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw += [
        (b"content-type", rep.content_type.encode()),
        (b"content-length", str(rep.size).encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": raw})
    if scope["method"] == "HEAD":
        await send({"type": "http.response.body", "body": b""})
    else:
        await send({"type": PATHSEND, "path": rep.path})
    return 200


@dataclass(frozen=True, slots=True)
class StoredRepresentation:
    """A blob in a remote store (S3): size and validators, no local path."""

    sha256: str
    size: int
    etag: str
    last_modified: float
    content_type: str
    last_modified_http: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "last_modified_http", formatdate(self.last_modified, usegmt=True))


async def send_stored(
    scope: Scope,
    receive: Receive,
    send: Send,
    rep: StoredRepresentation,
    store: Any,
    *,
    cache_control: str,
) -> int:
    """Answer a GET/HEAD for a remote blob, streaming it (Range passed to the store).

    One range is fetched as a ranged GET from the store; several ranges are answered
    with the whole body (allowed by RFC 9110 §14.2), never with several fetches.
    """
    request_headers, headers, answered = await _preconditions(
        scope, receive, send, rep, cache_control
    )
    if answered is not None:
        return answered
    start, end, status = 0, rep.size - 1, 200
    header = request_headers.get("range")
    if_range = request_headers.get("if-range")
    range_applies = if_range is None or if_range in (rep.etag, rep.last_modified_http)
    if header is not None and scope["method"] == "GET" and range_applies:
        ranges = parse_ranges(header, rep.size)
        if ranges is UNSATISFIABLE:
            headers["content-range"] = f"bytes */{rep.size}"
            await Response(status_code=416, headers=headers)(scope, receive, send)
            return 416
        if isinstance(ranges, list) and len(ranges) == 1:
            start, end = ranges[0]
            status = 206
            headers["content-range"] = f"bytes {start}-{end}/{rep.size}"
    headers["content-type"] = rep.content_type
    headers["content-length"] = str(end - start + 1 if rep.size else 0)
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if scope["method"] == "HEAD" or rep.size == 0:
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": b""})
        return status
    chunks = store.iter_range(rep.sha256, start, end)
    try:
        # the first chunk is fetched before answering, so a store outage is a clean 503
        chunk = await anyio.to_thread.run_sync(next, chunks, None)
    except ServiceUnavailable as exc:
        body = json.dumps(error_body("unavailable", "the object store is unavailable")).encode()
        log.warning("object store unavailable while serving %s: %s", rep.sha256[:16], exc)
        await Response(
            body,
            status_code=503,
            media_type="application/json",
            headers={"retry-after": "5", "cache-control": "no-store"},
        )(scope, receive, send)
        return 503
    await send({"type": "http.response.start", "status": status, "headers": raw})
    try:
        while chunk is not None:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            chunk = await anyio.to_thread.run_sync(next, chunks, None)
    finally:
        await anyio.to_thread.run_sync(chunks.close)
    await send({"type": "http.response.body", "body": b""})
    return status
