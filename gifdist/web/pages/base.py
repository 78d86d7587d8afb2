"""What every page shares: rendering with the viewer's state, redirects to sign in, and
the small parsing helpers of query strings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from starlette.responses import HTMLResponse, RedirectResponse

from gifdist.accounts.keys import ApiKey, Scope
from gifdist.web.auth import service_of
from gifdist.web.pages.render import render
from gifdist.web.session import Session

__all__ = [
    "NO_STORE",
    "User",
    "missing_scope",
    "page",
    "page_number",
    "param",
    "query_url",
    "service_of",
    "to_signin",
    "viewer_context",
]

User = tuple[Session, ApiKey]

NO_STORE = {"Cache-Control": "no-store"}


def page(template: str, user: User | None, status: int = 200, **context: Any) -> HTMLResponse:
    html = render(template, http_status=status, **viewer_context(user), **context)
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def viewer_context(user: User | None) -> dict[str, Any]:
    """What the page header says about who is looking (their name, their nav)."""
    key = user[1] if user else None
    return {
        "signed_in": user is not None,
        "viewer_name": key.name if key else "",
        "csrf": user[0].csrf if user else "",
        "can_stats": bool(key and key.allows(Scope.STATS)),
        "can_moderate": bool(key and key.allows(Scope.MODERATE)),
    }


def missing_scope(user: User, scope: Scope, what: str) -> HTMLResponse:
    return page(
        "error.html",
        user,
        status=403,
        heading=f"You can't open {what}",
        message=f"Your API key lacks the {scope.value!r} scope. "
        "Ask an admin for a key that has it, then sign in with that key.",
    )


def to_signin(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)


def param(params: Mapping[str, str], name: str, limit: int = 64) -> str:
    return params.get(name, "").strip()[:limit]


def page_number(raw: str) -> int:
    try:
        return max(1, min(int(raw or 1), 10_000))
    except ValueError:
        return 1


def query_url(path: str, **params: str | int | None) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path
