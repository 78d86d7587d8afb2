"""Cross-node cache invalidation over Redis pub/sub.

When one node changes an asset (moderation decision, privacy, deletion) it
publishes the asset id; every node's subscriber drops its cached copy at once.
The caches also expire entries after a couple of seconds, so a message lost while
Redis restarts delays the change by at most that TTL.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

log = logging.getLogger("gifdist.caching.invalidation")

CHANNEL = "gifdist:invalidate"


class RedisInvalidator:
    """Publishes local changes and applies remote ones (a background task)."""

    def __init__(
        self, redis_url: str, on_remote_change: Callable[[str], None], *, channel: str = CHANNEL
    ) -> None:
        import redis

        self._client: Any = redis.Redis.from_url(
            redis_url, socket_timeout=2, socket_connect_timeout=2
        )
        self._on_remote_change = on_remote_change
        self.channel = channel
        self.node_id = uuid.uuid4().hex[:12]
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None

    def publish(self, asset_id: str) -> None:
        """Tell the other nodes ``asset_id`` changed (best effort; TTLs cover failures)."""
        try:
            self._client.publish(self.channel, f"{self.node_id}:{asset_id}")
        except Exception as exc:  # Redis down: the cache TTL is the safety net
            log.warning("could not publish invalidation of %s: %s", asset_id, exc)

    def check(self) -> str | None:
        """None when Redis answers a PING, else the problem (for ``/readyz``)."""
        try:
            self._client.ping()
        except Exception as exc:  # any client error means "not ready"
            return f"{type(exc).__name__}: {str(exc)[:200]}"
        return None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._listen, name="gifdist-invalidation", daemon=True
        )
        self._thread.start()
        # Changes published before the subscription exists would be missed.
        self._subscribed.wait(2.0)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._client.close()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                pubsub = self._client.pubsub()
                pubsub.subscribe(self.channel)
                pubsub.get_message(timeout=1.0)  # the subscribe confirmation
                self._subscribed.set()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None and message.get("type") == "message":
                        self._apply(message.get("data"))
                pubsub.close()
            except Exception as exc:
                log.warning("invalidation channel lost (%s); reconnecting", exc)
                self._stop.wait(1.0)

    def _apply(self, data: Any) -> None:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
        node, _, asset_id = text.partition(":")
        if node != self.node_id and asset_id:
            self._on_remote_change(asset_id)
