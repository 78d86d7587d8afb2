"""A request id on every response (``X-Request-ID``), taken from the client if sane.

A fresh id is a random per-process prefix and a counter (32 hex digits): unique
across workers and restarts without a system call per request (``os.urandom``
releases the GIL, and on a busy worker getting it back costs more than the rest of
a short-link hit).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gifdist.observability.context import current_request_id

# Printable token characters only, bounded: a hostile id cannot inject log lines
# or headers.
_VALID = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")


class RequestIdSource:
    """Makes request ids: 16 random hex digits per process, then a 16-digit counter."""

    def __init__(self) -> None:
        self._prefix = ""
        self._counter: itertools.count[int] = itertools.count(1)
        self.reseed()

    def reseed(self) -> None:
        """A new prefix (a forked worker must not repeat its parent's ids)."""
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"


new_request_id = RequestIdSource()
os.register_at_fork(after_in_child=new_request_id.reseed)


def valid_request_id(value: bytes) -> str | None:
    """A client's ``X-Request-ID`` value if it is well-formed, else None."""
    return value.decode("ascii") if _VALID.fullmatch(value) else None


def request_id_from(scope: Scope) -> str:
    """The client's ``X-Request-ID`` if well-formed, else a fresh one."""
    return request_id_in(scope["headers"]) or new_request_id()


def request_id_in(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The first ``X-Request-ID`` among ``headers`` if well-formed, else None."""
    for key, value in headers:
        if key == b"x-request-id":
            return valid_request_id(value)
    return None


class RequestIdMiddleware:
    """Sets ``scope['state']['request_id']`` and echoes it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = current_request_id.set(request_id)
        header = (b"x-request-id", request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)
