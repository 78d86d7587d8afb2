"""Trailing-slash redirects whose ``Location`` comes from the base URL, never ``Host``.

Starlette's own redirect builds the absolute URL from the request's ``Host``
header, so ``Host: evil.example`` would send people there. This one keeps the
same rule (a path that matches only with or without its trailing slash answers
307 to the other form) with the configured base URL.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from starlette.responses import RedirectResponse
from starlette.routing import Match

Scope = MutableMapping[str, Any]


def install_slash_redirects(app: FastAPI, base_url: str) -> None:
    """Replace the router's Host-based slash redirect with a base-URL one."""
    router = app.router
    router.redirect_slashes = False
    not_found = router.default

    async def redirect_or_not_found(scope: Scope, receive: Any, send: Any) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path not in ("", "/"):
            other = path.rstrip("/") if path.endswith("/") else path + "/"
            probe = {**scope, "path": other}
            if other and any(route.matches(probe)[0] is not Match.NONE for route in router.routes):
                query = scope.get("query_string", b"").decode("latin-1")
                location = base_url + quote(other, safe="/") + (f"?{query}" if query else "")
                await RedirectResponse(location, status_code=307)(scope, receive, send)
                return
        await not_found(scope, receive, send)

    router.default = redirect_or_not_found
