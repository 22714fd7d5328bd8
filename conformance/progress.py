"""What `uploads-conformance run` shows while it runs: one line per suite test as it ends.

    [ 3/17] ok         4.2 s  test_probes.py::test_the_lifecycle_rules_hold_once_each
    [ 4/17] FAILED     0.8 s  test_races.py::test_completions_sent_at_once_have_one_winner

pytest's own output goes to the run's log (`conformance.console_capture`); these lines are
what a person watching the terminal needs: how far the run is, and which test found what.
The plugin runs on the pytest controller, so it sees every worker's tests too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

__all__ = ["Progress"]

_WORDS = {"passed": "ok", "failed": "FAILED", "skipped": "skipped"}


class Progress:
    """A pytest plugin that writes a line per finished test through `write`."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._total: int | None = None
        self._done = 0
        self._seconds: dict[str, float] = {}
        self._outcome: dict[str, str] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.items:  # a controller with workers collects nothing itself
            self._total = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        self._total = len(ids)  # every worker collects the same tests

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        test = report.nodeid
        self._seconds[test] = self._seconds.get(test, 0.0) + report.duration
        if report.when == "call" or report.outcome != "passed":
            # A failed set-up or tear-down is an error of the test, not a finding.
            word = _WORDS[report.outcome] if report.when == "call" or report.skipped \
                else "ERROR"
            if self._outcome.get(test) in (None, "ok", "skipped"):
                self._outcome[test] = word
        if report.when == "teardown":
            self._done += 1
            self._write(self._line(test))

    def _line(self, test: str) -> str:
        total = str(self._total) if self._total is not None else "?"
        count = f"[{self._done:>{len(total)}}/{total}]"
        word = self._outcome.pop(test, "ok")
        seconds = self._seconds.pop(test)
        return f"  {count} {word:<7} {seconds:6.1f} s  {test}\n"
