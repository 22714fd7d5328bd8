"""A request rate limit (`--rate-limit`): requests leave no closer than 1/rate apart.

For the paid API: the suite must not look like an attack, nor spend the user's rate limit
in one burst. Threads share the pace: each takes the next free slot and waits for it.
"""

from __future__ import annotations

import threading
import time

from conformance import halt

__all__ = ["Pace"]


class Pace:
    """At most `per_second` requests a second (None: no limit), over all threads."""

    def __init__(self, per_second: float | None) -> None:
        if per_second is not None and per_second <= 0:
            raise ValueError("the rate limit must be above 0 requests a second")
        self._gap = 0.0 if per_second is None else 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def wait_turn(self) -> None:
        """Wait for this request's slot (RunHalted if the run is stopped meanwhile)."""
        if not self._gap:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._gap
        halt.wait(slot - now)
