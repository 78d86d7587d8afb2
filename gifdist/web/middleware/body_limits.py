"""Request body size limits for everything except the streamed upload route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.types import Message, Receive, Scope, Send

from gifdist.web.errors import error_response


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuse bodies over ``default_limit`` with 413 (the upload route checks its own)."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        *,
        default_limit: int,
        upload_paths: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.limit = default_limit
        self.upload_paths = tuple(upload_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.upload_paths:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    too_large = True
                    raise BodyTooLarge
            return message

        async def checked_send(message: Message) -> None:
            # The framework may turn BodyTooLarge into its own 400; answer 413 instead.
            if too_large:
                if message["type"] == "http.response.start":
                    await self._refuse(scope, receive, send)
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, checked_send)
        except BodyTooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            scope["path"],
            413,
            "payload_too_large",
            f"the request body is larger than {self.limit} bytes",
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            return int(value) if value.isdigit() else None
    return None
