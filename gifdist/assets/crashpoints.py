"""Named points where the crash tests kill this process, to prove that a delete or an
upload interrupted there is finished or rolled back by the next start.

Test-only. ``GIFDIST_TEST_CRASH_AT=<name>`` (read once, here: the one environment read
outside :mod:`gifdist.config`, on purpose, so that no documented setting advertises it)
makes the process SIGKILL itself when it reaches that point. Never set it in production.
The points: ``delete.committed``, ``delete.analytics_erased``, ``delete.bytes_quarantined``,
``upload.bytes_stored``.
"""

from __future__ import annotations

import os
import signal

_ARMED = os.environ.get("GIFDIST_TEST_CRASH_AT")


def crash_point(name: str) -> None:
    """Die here, at once and without cleanup, if the crash tests armed ``name``."""
    if name == _ARMED:
        os.kill(os.getpid(), signal.SIGKILL)
