"""A request id on every response (``X-Request-ID``), taken from the client if sane."""

from __future__ import annotations

import os
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gifdist.observability.context import current_request_id

# Printable token characters only, bounded: a hostile id cannot inject log lines
# or headers.
_VALID = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")


def request_id_from(scope: Scope) -> str:
    """The client's ``X-Request-ID`` if well-formed, else a fresh random one."""
    for key, value in scope["headers"]:
        if key == b"x-request-id":
            if _VALID.fullmatch(value):
                return str(value.decode("ascii"))
            break
    return os.urandom(16).hex()


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
