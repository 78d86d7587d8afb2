"""A background task that runs a function every so often (started and stopped with
the service); a failing run is logged and tried again next time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("gifdist.periodic")


class PeriodicTask:
    def __init__(self, name: str, every: float, run: Callable[[], object]) -> None:
        self.name = name
        self.every = every
        self.run = run
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"gifdist-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.run()
            except Exception as exc:  # a store or database outage: try again next time
                log.warning("%s failed: %s", self.name, exc)
