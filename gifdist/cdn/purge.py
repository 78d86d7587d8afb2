"""Purging shared caches when a GIF stops being public.

Public GIF bytes go out with a long browser lifetime but a short ``s-maxage``
(``GIFDIST_SHARED_CACHE_SECONDS``), so any shared cache asks again within that
bound. Caches that accept purge requests (nginx with Debian's
``libnginx-mod-http-cache-purge``, Varnish, most CDNs' HTTP purge) are also told
at once: each URL in ``GIFDIST_CACHE_PURGE_URLS`` gets ``PURGE <url>/a/<id>.gif``
(and the page) from a background thread, never on a request path.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence

import httpx

log = logging.getLogger("gifdist.cdn")

PURGE_TIMEOUT = 3.0
MAX_QUEUED = 10_000


# What a caching proxy may hold of one asset besides its page: the GIF, its renditions
# (``gifdist.media.rendition_store.RENDITION_SUFFIXES``) and the player page.
ASSET_SUFFIXES = (
    ".gif", ".mp4", ".webp", ".jpg", "/tiny.gif", "/tiny.mp4", "/tiny.webp", "/tiny.jpg",
    "/player",
)  # fmt: skip


def purge_paths(asset_id: str) -> list[str]:
    """The cacheable paths of an asset: its bytes, its renditions and its pages."""
    return [*(f"/a/{asset_id}{suffix}" for suffix in ASSET_SUFFIXES), f"/a/{asset_id}"]


class CachePurger:
    """Sends ``PURGE`` for a changed asset's paths to every configured cache."""

    def __init__(
        self,
        purge_urls: Sequence[str],
        *,
        on_failure: Callable[[], None] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.bases = [url.rstrip("/") for url in purge_urls]
        self.on_failure = on_failure
        self._transport = transport
        self._queue: queue.Queue[str | None] = queue.Queue(MAX_QUEUED)
        self._thread: threading.Thread | None = None

    def asset_changed(self, asset_id: str) -> None:
        """Queue purges for ``asset_id`` (never blocks; a full queue is logged)."""
        try:
            self._queue.put_nowait(asset_id)
        except queue.Full:
            log.warning("cache purge queue is full; %s expires by s-maxage instead", asset_id)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="cache-purge", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        with httpx.Client(timeout=PURGE_TIMEOUT, transport=self._transport) as client:
            while (asset_id := self._queue.get()) is not None:
                for base in self.bases:
                    for path in purge_paths(asset_id):
                        self._purge(client, base + path)

    def _purge(self, client: httpx.Client, url: str) -> None:
        try:
            status = client.request("PURGE", url).status_code
        except httpx.HTTPError as exc:
            status, problem = 0, f"{type(exc).__name__}: {exc}"
        else:
            problem = f"HTTP {status}"
        if status in (200, 204, 404, 412):  # 404/412: the cache did not hold it
            log.debug("purged %s (%s)", url, status)
            return
        log.warning("cache purge of %s failed (%s); it expires by s-maxage instead", url, problem)
        if self.on_failure is not None:
            self.on_failure()
