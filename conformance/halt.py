"""Why a run stops before its end: one flag per process, set once, read everywhere.

Four things stop a run early: Ctrl-C or SIGTERM (the command line's signal handlers), its
`--max-time` passing (a timer in `conformance.run`), a target that wastes the run's time
(`conformance.client.health`), and, under xdist, another process that stopped. Whoever
stops it calls `halt(reason)`; the first reason is kept. From then on every request the
suite would send raises `RunHalted` at once, so the test in progress ends within moments,
and the pytest plugin ends the session: the report says what ran, the reason, and the
exit status is 2 (a stopped run is never a verdict on the target).

`RunHalted` is a BaseException on purpose: Hypothesis, the suite's own `except Exception`
handlers and thread pools pass it on instead of treating it as a failure to shrink.
"""

from __future__ import annotations

import threading

__all__ = ["RunHalted", "check", "halt", "reason", "reset", "wait"]

_lock = threading.Lock()
_stopped = threading.Event()
_reason: str | None = None


class RunHalted(BaseException):
    """The run was stopped (its reason is the message); raised where a request would go."""


def halt(why: str) -> None:
    """Stop the run for `why`; a later reason does not replace the first."""
    global _reason
    with _lock:
        if _reason is None:
            _reason = why
    _stopped.set()


def reason() -> str | None:
    """Why the run was stopped; None while it goes on."""
    return _reason if _stopped.is_set() else None


def check() -> None:
    """Raise RunHalted if the run was stopped."""
    if _stopped.is_set():
        raise RunHalted(_reason or "the run was stopped")


def wait(seconds: float) -> None:
    """Sleep up to `seconds`, waking at once (with RunHalted) if the run is stopped."""
    if _stopped.wait(max(0.0, seconds)):
        check()


def reset() -> None:
    """A new run in this process: nothing stops it yet."""
    global _reason
    with _lock:
        _reason = None
        _stopped.clear()
