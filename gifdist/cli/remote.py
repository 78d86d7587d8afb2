"""Commands against a running gifdist (``--server URL --key KEY``, or ``GIFDIST_SERVER``
and ``GIFDIST_KEY``) through its HTTP API: the server's answers become the same errors
(and so the same messages and exit codes) as the local use cases raise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import quote

import httpx
import typer

from gifdist.cli.errors import CliError, UsageError
from gifdist.cli.local import local_service
from gifdist.cli.output import err
from gifdist.errors import (
    Conflict,
    Forbidden,
    GifdistError,
    Gone,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)

if TYPE_CHECKING:
    from gifdist.wiring import Service

L = TypeVar("L")
R = TypeVar("R")

ServerOpt = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="GIFDIST_SERVER",
        help="Talk to a running gifdist at this http(s) URL (or GIFDIST_SERVER) instead "
        "of the local data dir.",
        show_default=False,
    ),
]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--key",
        envvar="GIFDIST_KEY",
        help="API key for --server (or GIFDIST_KEY).",
        show_default=False,
    ),
]

# GIFDIST_SERVER also names the ASGI server of `gifdist serve`: those values mean local.
_ASGI_SERVERS = ("granian", "uvicorn")

_ERRORS: dict[int, type[GifdistError]] = {
    400: InvalidInput,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    413: PayloadTooLarge,
    415: InvalidInput,
    422: InvalidInput,
}


def server_url(value: str | None) -> str | None:
    """The server to talk to, or None for the local data dir."""
    if not value or value in _ASGI_SERVERS:
        return None
    if not value.startswith(("http://", "https://")):
        raise UsageError(f"--server must be an http:// or https:// URL, not {value[:80]!r}")
    try:
        httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise UsageError(f"--server is not a valid URL ({exc}): {value[:80]!r}") from None
    return value.rstrip("/")


def segment(value: str) -> str:
    """``value`` as one path segment of an API URL: an id like ``../links/x`` or ``a?b``
    names that (missing) thing, never another route."""
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


class RemoteServer:
    """A gifdist server's API (``/api/v1``) with one key."""

    def __init__(self, base: str, key: str | None, *, timeout: float = 60.0) -> None:
        if not key:
            raise UsageError("--key (or GIFDIST_KEY) is required with --server")
        if not (key.isascii() and key.isprintable()):
            raise UsageError("--key must be printable ASCII (as the keys gifdist makes are)")
        self.base = base
        self.client = httpx.Client(
            base_url=f"{base}/api/v1",
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout,
        )

    def __enter__(self) -> RemoteServer:
        err.print(f"using server: {self.base}", highlight=False, soft_wrap=True)
        return self

    def __exit__(self, *_: object) -> None:
        self.client.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a 2xx answer (None for 204); otherwise the matching error."""
        response = self.send(method, path, **kwargs)
        return response.json() if response.content else None

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The raw 2xx answer; ``path`` is under ``/api/v1``, or a full URL."""
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.ConnectError:
            raise CliError(
                f"cannot reach {self.base}: connection refused (is it running?)"
            ) from None
        except httpx.TimeoutException:
            raise CliError(f"{self.base} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise CliError(f"cannot talk to {self.base}: {exc}") from None
        if response.status_code >= 400:
            raise error_for(response, self.base)
        return response


def error_for(response: httpx.Response, base: str) -> GifdistError:
    """A server's error answer as the error the local use case would have raised."""
    status = response.status_code
    message = _server_message(response)
    if status == 401:
        message = f"{base} refused the key ({message})"
    text = f"{message} ({status} from {base})"
    if status == 429:
        retry = response.headers.get("Retry-After", "1")
        return TooManyRequests(text, retry_after=float(retry) if retry.isdigit() else 1.0)
    kind = _ERRORS.get(status)
    if kind is not None:
        return kind(text)
    return ServiceUnavailable(text) if status >= 500 else GifdistError(text)


def _server_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or body["error"].get("code"))
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])[:200]
    return response.reason_phrase or "error"


@contextmanager
def local_or_remote(
    server: str | None,
    key: str | None,
    local: Callable[[Service], L],
    remote: Callable[[RemoteServer], R],
) -> Iterator[L | R]:
    """``remote(server)`` when a server URL is given, else ``local(service)`` on the
    local data dir; either says on stderr which one it uses."""
    base = server_url(server)
    if base is not None:
        with RemoteServer(base, key) as api:
            yield remote(api)
        return
    with local_service(announce=True) as service:
        yield local(service)
