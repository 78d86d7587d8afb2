"""Streaming multipart/form-data for uploads: bytes go to disk as they arrive.

Nothing is buffered whole: the ``file`` part is hashed and written to the blob
store's temp area in ~1 MiB slices (the disk write happens in a worker thread),
small text fields are capped, and the body is refused the moment it passes the
configured limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from gifdist.assets.uploads import UploadSink
from gifdist.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from gifdist.wiring import Service

FIELD_LIMIT = 64 * 1024
FIELD_SLACK = 1024 * 1024
FLUSH_AT = 1024 * 1024
TEXT_FIELDS = ("title", "tags", "description")


@dataclass
class ReceivedUpload:
    sink: UploadSink
    fields: dict[str, str]


@dataclass
class _PartState:
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str | None = None
    is_file: bool = False
    data: bytearray = field(default_factory=bytearray)


class _UploadParser:
    """Callback target for ``MultipartParser``; collects one file and text fields."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.sink: UploadSink | None = None
        self.pending = bytearray()
        self.file_bytes = 0
        self.fields: dict[str, str] = {}
        self.part = _PartState()
        self.finished = False
        self.max_file = service.settings.max_upload_bytes

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: self.part.header_field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self.part.header_value.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self.part = _PartState()

    def _header_end(self) -> None:
        name = bytes(self.part.header_field).strip().lower()
        self.part.headers[name] = bytes(self.part.header_value).strip()
        self.part.header_field.clear()
        self.part.header_value.clear()

    def _headers_finished(self) -> None:
        disposition, options = parse_options_header(
            self.part.headers.get(b"content-disposition", b"")
        )
        if disposition != b"form-data" or b"name" not in options:
            raise InvalidInput("each multipart part needs a form-data name", code="bad_multipart")
        self.part.name = options[b"name"].decode("utf-8", "replace")
        self.part.is_file = self.part.name == "file"
        if self.part.is_file:
            if self.sink is not None:
                raise InvalidInput("send one file per request", code="too_many_files")
            self.sink = self.service.uploads.new_sink()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        size = end - start
        if self.part.is_file:
            self.file_bytes += size
            if self.file_bytes > self.max_file:
                raise PayloadTooLarge(
                    f"the file is larger than the {self.max_file}-byte limit",
                    code="file_too_large",
                )
            self.pending.extend(data[start:end])
            return
        if len(self.part.data) + size > FIELD_LIMIT:
            raise PayloadTooLarge(
                f"field {self.part.name!r} is larger than {FIELD_LIMIT} bytes",
                code="field_too_large",
            )
        self.part.data.extend(data[start:end])

    def _part_end(self) -> None:
        name = self.part.name
        if name is None or self.part.is_file:
            return
        if name in TEXT_FIELDS:
            try:
                self.fields[name] = self.part.data.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput(
                    f"field {name!r} is not valid UTF-8", code="bad_encoding"
                ) from None

    def _end(self) -> None:
        self.finished = True

    async def flush(self, force: bool = False) -> None:
        if self.sink is not None and self.pending and (force or len(self.pending) >= FLUSH_AT):
            chunk, self.pending = bytes(self.pending), bytearray()
            await anyio.to_thread.run_sync(self.sink.write, chunk)


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise UnsupportedMediaType(
            "send the GIF as multipart/form-data with a 'file' field",
            code="expected_multipart",
        )
    return options[b"boundary"]


def _check_declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not declared.isdigit():
        raise InvalidInput("Content-Length is not a number", code="bad_content_length")
    if int(declared) > limit:
        raise PayloadTooLarge(
            f"the request body is {declared} bytes; uploads are limited to "
            f"{limit - FIELD_SLACK} bytes",
            code="file_too_large",
        )


async def receive_upload(request: Request, service: Service) -> ReceivedUpload:
    """Parse an upload request; raise a precise 4xx error for anything malformed.

    The caller owns the returned sink (it must ingest or discard it).
    """
    boundary = _boundary(request)
    body_limit = service.settings.max_upload_bytes + FIELD_SLACK
    _check_declared_length(request, body_limit)
    state = _UploadParser(service)
    parser = MultipartParser(boundary, state.callbacks(), max_size=body_limit)  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > body_limit:
                raise PayloadTooLarge("the request body is too large", code="file_too_large")
            parser.write(chunk)
            await state.flush()
        parser.finalize()
        await state.flush(force=True)
    except MultipartParseError as exc:
        _discard(state)
        raise InvalidInput(f"malformed multipart body: {exc}", code="bad_multipart") from None
    except (Exception, ClientDisconnect):
        _discard(state)
        raise
    if not state.finished:
        _discard(state)
        raise InvalidInput("the multipart body is truncated", code="truncated_body")
    if state.sink is None:
        raise InvalidInput("the form has no 'file' field", code="missing_file")
    return ReceivedUpload(state.sink, state.fields)


def _discard(state: _UploadParser) -> None:
    if state.sink is not None:
        state.sink.discard()
