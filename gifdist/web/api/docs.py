"""``/api/v1/docs``: Swagger UI served from an installed package (``swagger-ui-bundle-v2``,
the Swagger UI 5 distribution), never from a public CDN, so it works offline and
loads nothing the deployment did not ship."""

from __future__ import annotations

import base64
import hashlib
import re

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

DOCS = "/api/v1/docs"
ASSETS = f"{DOCS}/assets"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def add_docs(app: FastAPI, openapi_url: str) -> None:
    """Mount the Swagger UI files and the page that starts it (its one inline script
    allowed by hash in the page's Content-Security-Policy)."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")
    html = get_swagger_ui_html(
        openapi_url=openapi_url,
        title="gifdist API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    ).body
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(bytes(html).decode())
    )
    csp = (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    )

    @app.get(DOCS, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(
            html, headers={"Content-Security-Policy": csp, "Cache-Control": "no-cache"}
        )
