"""The client's recent exchanges, numbered, so that a finding's evidence can be the
exchanges of its own example or scenario: `mark` when it begins, `recent(since=mark)`."""

from __future__ import annotations

import itertools
import threading
from collections import deque

from conformance.results import Exchange

__all__ = ["ExchangeLog"]


class ExchangeLog:
    """The last `size` exchanges, oldest first, each with its number."""

    def __init__(self, size: int) -> None:
        self._kept: deque[tuple[int, Exchange]] = deque(maxlen=size)
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()  # parts sent at once keep their exchanges at once

    def keep(self, exchange: Exchange) -> None:
        with self._lock:
            self._kept.append((next(self._numbers), exchange))

    def mark(self) -> int:
        """The number of the last exchange kept: `recent(since=...)` starts after it."""
        with self._lock:
            return self._kept[-1][0] if self._kept else 0

    def recent(self, n: int | None = None, since: int = 0) -> list[Exchange]:
        """The last n exchanges (all kept ones without n) kept after the mark `since`,
        oldest first."""
        with self._lock:
            log = [exchange for number, exchange in self._kept if number > since]
        return log if n is None else log[-n:] if n > 0 else []
