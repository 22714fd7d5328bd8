"""What `uploads-conformance run` shows while it runs: a line per suite test as it ends.

    [ 3/17]  0:04  ok         2.3 s  limits                test_limit_bytes.py::test_part…
    [13/17]  0:31  FAILED    21.8 s  stateful exploration  test_stateful.py::test_upload…
            failing so far: COMPLETE-MD5

Each line gives the count, the time since the run began, the test's outcome and seconds,
its phase, and its name; a line follows when a requirement fails for the first time. While
a long test runs, a terminal shows a status line redrawn every second; a log (CI, a pipe)
gets a plain "still running" line every `HEARTBEAT_S` seconds instead, so that a silent
minute never looks like a hang. pytest's own output goes to the run's log
(`conformance.console_capture`). The plugin runs on the pytest controller, so it sees every
worker's tests too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from conformance.plugin import FINDINGS_KEY

__all__ = ["HEARTBEAT_S", "Progress", "phase_of"]

HEARTBEAT_S = 30.0  # seconds between two "still running" lines in a log
_TICK_S = 1.0  # how often a terminal's status line is redrawn
_WORDS = {"passed": "ok", "failed": "FAILED", "skipped": "skipped"}

# The suite's modules by phase, as a person reading the run thinks of them.
_PHASES = {
    "test_unknown_ids": "probes", "test_probes": "probes", "test_limits": "limits",
    "test_limit_bytes": "limits", "test_parallel": "concurrency", "test_races": "concurrency",
    "test_stateful": "stateful exploration", "test_leniency": "open behaviour",
    "test_schema": "schema checks", "test_sdk": "SDK checks", "test_sdk_retries": "SDK checks",
}
_PHASE_WIDTH = max(len(phase) for phase in _PHASES.values())


def phase_of(nodeid: str) -> str:
    """The phase a suite test belongs to ("" for a test that is not the suite's)."""
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
    return _PHASES.get(module, "")


class Progress:
    """A pytest plugin that writes the run's progress through `write`.

    `live`: the output is a terminal (a status line redrawn in place); `verbose`: each new
    failure's message too.
    """

    def __init__(self, write: Callable[[str], None], *, live: bool = False,
                 verbose: bool = False, heartbeat_s: float = HEARTBEAT_S) -> None:
        self._write = write
        self._live, self._verbose, self._heartbeat_s = live, verbose, heartbeat_s
        self._total: int | None = None
        self._done = 0
        self._seconds: dict[str, float] = {}
        self._outcome: dict[str, str] = {}
        self._pending: dict[str, str] = {}  # lines of new failures, shown after the test's
        self._running: dict[str, float] = {}  # test -> when it started (monotonic)
        self._failing: list[str] = []
        self._started = time.monotonic()
        self._last_line = self._started
        self._status_shown = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    # --- pytest's hooks ---------------------------------------------------------------

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.items:  # a controller with workers collects nothing itself
            self._total = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        self._total = len(ids)  # every worker collects the same tests

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
        self._ticker.start()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(2 * _TICK_S)
        with self._lock:
            self._clear_status()

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        with self._lock:
            self._running.setdefault(nodeid, time.monotonic())

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        test = report.nodeid
        self._seconds[test] = self._seconds.get(test, 0.0) + report.duration
        if report.when == "call" or report.outcome != "passed":
            # A failed set-up or tear-down is an error of the test, not a finding.
            word = _WORDS[report.outcome] if report.when == "call" or report.skipped \
                else "ERROR"
            if self._outcome.get(test) in (None, "ok", "skipped"):
                self._outcome[test] = word
        self._pending[test] = self._pending.get(test, "") + self._new_failures(report)
        if report.when == "teardown":
            self._done += 1
            with self._lock:
                self._running.pop(test, None)
                self._emit(self._line(test) + self._pending.pop(test))

    # --- the lines --------------------------------------------------------------------

    def _line(self, test: str) -> str:
        total = str(self._total) if self._total is not None else "?"
        count = f"[{self._done:>{len(total)}}/{total}]"
        word = self._outcome.pop(test, "ok")
        seconds = self._seconds.pop(test)
        return (f"  {count} {_clock(time.monotonic() - self._started)}  {word:<7} "
                f"{seconds:6.1f} s  {phase_of(test):<{_PHASE_WIDTH}}  {test}\n")

    def _new_failures(self, report: pytest.TestReport) -> str:
        """Lines for the requirements that failed for the first time in this report."""
        new: list[tuple[str, str]] = []
        for key, value in report.user_properties:
            if key != FINDINGS_KEY:
                continue
            for finding in value.get("failures", ()):
                requirement = str(finding.get("requirement", ""))
                if requirement and requirement not in self._failing:
                    self._failing.append(requirement)
                    new.append((requirement, " ".join(str(finding.get("message", "")).split())))
        if not new:
            return ""
        if self._verbose:
            return "".join(f"          {requirement} failed: {message[:200]}\n"
                           for requirement, message in new)
        return f"          failing so far: {', '.join(self._failing)}\n"

    def _status(self) -> str:
        now = time.monotonic()
        running = sorted(self._running.items(), key=lambda item: item[1])
        if not running:
            return ""
        test, since = running[0]
        more = f" (+{len(running) - 1} more)" if len(running) > 1 else ""
        return (f"  ...      {_clock(now - self._started)}  running {now - since:4.0f} s  "
                f"{phase_of(test)}: {test}{more}")

    def _tick(self) -> None:
        interval = _TICK_S if self._live else min(_TICK_S, self._heartbeat_s)
        while not self._stop.wait(interval):
            with self._lock:
                status = self._status()
                if not status:
                    continue
                if self._live:
                    self._write("\r\x1b[K" + status)
                    self._status_shown = True
                elif time.monotonic() - self._last_line >= self._heartbeat_s:
                    self._emit(status.replace("running", "still running", 1) + "\n")

    def _emit(self, text: str) -> None:
        # Called with the lock held: a status line is cleared before a line takes its place.
        self._clear_status()
        self._write(text)
        self._last_line = time.monotonic()

    def _clear_status(self) -> None:
        if self._status_shown:
            self._write("\r\x1b[K")
            self._status_shown = False


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes:2d}:{rest:02d}"
