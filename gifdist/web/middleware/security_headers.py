"""Browser hardening headers on every HTML page.

Pages load only this site's own scripts and styles (no inline script or style
anywhere in the templates), are never framed by another site, are not
MIME-sniffed, and send only the origin as ``Referer`` to other sites (a signed
URL in a page's address never leaks). Images may come from anywhere: a GIF's
bytes can be a redirect to an object store or CDN.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src * data:; "
    "media-src *; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
# The player page is made to be framed (X's player card, oEmbed iframes) by anyone.
FRAMEABLE_CSP = PAGE_CSP.replace("frame-ancestors 'none'", "frame-ancestors *")
HTML_SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", PAGE_CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)


def with_html_security_headers(
    headers: list[tuple[bytes, bytes]],
) -> list[tuple[bytes, bytes]]:
    """``headers`` plus the hardening headers a response does not set itself. A page
    with a policy of its own decides its framing there (no ``X-Frame-Options``)."""
    present = {name.lower() for name, _ in headers}
    if b"content-security-policy" in present:
        present.add(b"x-frame-options")
    return [*headers, *(h for h in HTML_SECURITY_HEADERS if h[0] not in present)]


class HtmlSecurityHeaders:
    """Adds the hardening headers to every ``text/html`` response of ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if kind.startswith(b"text/html"):
                    message["headers"] = with_html_security_headers(headers)
            await send(message)

        await self.app(scope, receive, send_hardened)
