"""How much of the run the target has wasted; past the budget, the run stops (exit 2).

A target that throttles every request (429 with a long Retry-After), keeps answering 503,
or lets requests run into their deadline, turns a one-minute run into an hour of waiting.
Time is "lost" when it goes on an exchange that gave no answer (a timeout, a reset, a
broken answer) or on waiting to retry an answer that asked for it (429, 503). Past
`LOST_BUDGET_S` of lost time in one process, the run is halted with a message that says
what the target did, e.g. "the target wasted 61 s of the run (over the 60 s allowed): 3 ×
retry wait after 429 (Retry-After: 3600); the last at POST /v1/uploads".

Answers that are refusals, or 500s answered at once, lose no time: they are findings, and
the run goes on to report them.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

from conformance import halt

__all__ = ["LOST_BUDGET_S", "TargetHealth", "health"]

LOST_BUDGET_S: Final = 60.0


@dataclass
class TargetHealth:
    """Lost time, by cause, for one run in this process."""

    budget_s: float = LOST_BUDGET_S
    lost_s: float = 0.0
    causes: Counter[str] = field(default_factory=Counter)
    last: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def lost(self, seconds: float, cause: str, where: str) -> None:
        """`seconds` went on `cause`, a singular noun to count ("request without an answer
        (ReadTimeout)", "retry wait after 429 (Retry-After: 3600)"), at `where` ("POST
        /v1/uploads"); may halt the run."""
        with self._lock:
            self.lost_s += max(0.0, seconds)
            self.causes[cause] += 1
            self.last = where
            over = self.lost_s >= self.budget_s
            message = self.describe() if over else ""
        if over:
            halt.halt(message)

    def describe(self) -> str:
        causes = ", ".join(f"{count} × {cause}" for cause, count in self.causes.most_common())
        return (f"the target wasted {self.lost_s:.0f} s of the run (over the "
                f"{self.budget_s:.0f} s allowed): {causes}; the last at {self.last}")

    def reset(self, budget_s: float = LOST_BUDGET_S) -> None:
        """A new run in this process, allowed to lose `budget_s` seconds to its target."""
        with self._lock:
            self.budget_s = budget_s
            self.lost_s, self.last = 0.0, ""
            self.causes.clear()


health = TargetHealth()  # one per process: the run's target is the only one it talks to
