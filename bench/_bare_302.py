"""The server's own floor: apps that answer every request with a fixed 302 and do
nothing else, on the ASGI and on the RSGI interface of the same granian; and an ASGI
app that answers ``/bytes/{n}`` with ``n`` bytes of a GIF body from memory.

``bench/shortlinks.py`` and ``bench/delivery.py`` run them beside gifdist and nginx, so
each run shows how much of the gap to nginx is the server's and how much is gifdist's.
"""

from __future__ import annotations

from typing import Any

_ASGI_HEADERS = [
    (b"location", b"http://127.0.0.1/a/target.gif"),
    (b"content-length", b"0"),
    (b"cache-control", b"no-store"),
]
_RSGI_HEADERS = [("location", "http://127.0.0.1/a/target.gif"), ("cache-control", "no-store")]


_BODIES: dict[int, tuple[list[tuple[bytes, bytes]], bytes]] = {}


async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"].startswith("/bytes/"):
        size = min(int(scope["path"][7:] or 0), 1 << 20)
        found = _BODIES.get(size)
        if found is None:
            headers = [(b"content-type", b"image/gif"), (b"content-length", str(size).encode())]
            found = _BODIES[size] = (headers, b"G" * size)
        await send({"type": "http.response.start", "status": 200, "headers": found[0]})
        await send({"type": "http.response.body", "body": found[1]})
        return
    await send({"type": "http.response.start", "status": 302, "headers": _ASGI_HEADERS})
    await send({"type": "http.response.body", "body": b""})


async def rsgi(scope: Any, protocol: Any) -> None:
    protocol.response_empty(302, _RSGI_HEADERS)
