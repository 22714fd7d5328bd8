"""A failure replayed in the run that found it: does it come back, every time or sometimes?

Each failure of the suite's tests gets a measured verdict (`results.Reproduction`): a state
machine's finding replays its shrunk example, the same draws and so the same steps
(`engine.explore`); a fixed scenario's finding reruns its test (`replay_test`, called by the
plugin), and a replay counts for it when that scenario fails the requirement again. A
replay judges only the findings' requirements, into a recorder of its own: what it sees
adds nothing to the run's verdicts. `uploads-conformance replay` (replay.py) asks another
question of a finished report, whether a fix holds; this is the run's own measurement.
"""

from __future__ import annotations

import contextlib
import inspect
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from conformance import halt, requirements
from conformance.checks import Checker
from conformance.recorder import Recorder
from conformance.results import Finding, Reproduction
from conformance.target import Target

# A test that took longer than this is rerun once, not `Profile.replays` times: its replays
# must not cost a fail-fast run (a mutant's) more than a few seconds.
SLOW_TEST_S = 10.0
# Longer than this, it is not rerun at all (the verdict says why).
TOO_SLOW_TEST_S = 60.0


@contextmanager
def judging_only(target: Target, judged: set[str]) -> Iterator[Recorder]:
    """For the block, the target's checks report to a recorder of their own that judges only
    `judged`: the others are waived (never raised) and nothing of them is kept."""
    saved = target.recorder, target.checker, target.fail_fast
    quiet = Recorder()
    quiet.leave_out({r: "not replayed" for r in requirements.CATALOG if r not in judged})
    target.recorder, target.checker = quiet, Checker(quiet, saved[1].evidence)
    target.fail_fast = False  # a replay runs whole: the finding's step may come late
    try:
        yield quiet
    finally:
        target.recorder, target.checker, target.fail_fast = saved


def measure(target: Target, findings: Sequence[Finding], once: Callable[[], None],
            tries: int) -> None:
    """Runs `once` up to `tries` times, judging only the findings' requirements, and sets each
    finding's `replay`: a try reproduced it when a failure of its requirement, from the same
    source (the stateful machine, the same scenario), came back."""
    counts: Counter[int] = Counter()
    done, why = 0, "" if tries else "--replays 0"
    for _ in range(tries):
        if halt.reason() is not None:
            why = "the run was stopped"
            break
        with judging_only(target, {f.requirement for f in findings}) as quiet:
            try:
                once()
            except Exception as error:  # the replay itself broke: say so, count nothing
                why = f"a replay failed: {type(error).__name__}: {error}"[:200]
                break
        done += 1
        came_back = {(f.requirement, f.source) for f in quiet.failures}
        for finding in findings:
            counts[id(finding)] += (finding.requirement, finding.source) in came_back
    for finding in findings:
        finding.replay = Reproduction(counts[id(finding)], done, "" if done else why)


def tries_for(target: Target, seconds: float) -> int:
    """How many times to replay what took `seconds`: the profile's number, once when slow."""
    if seconds > SLOW_TEST_S:
        return min(1, target.profile.replays)
    return target.profile.replays


def replay_test(target: Target, since: int, test: Callable[..., Any],
                arguments: dict[str, Any], seconds: float) -> None:
    """Reruns a suite's test for its findings after index `since` that have no replay yet (a
    machine's findings have theirs): each is reproduced when its scenario fails again."""
    findings = [f for f in target.recorder.failures[since:] if f.replay is None]
    if not findings:
        return
    if seconds > TOO_SLOW_TEST_S:
        for finding in findings:
            finding.replay = Reproduction(0, 0, f"its test takes {seconds:.0f} s")
        return
    names = inspect.signature(test).parameters
    call = {name: arguments[name] for name in names if name in arguments}

    def once() -> None:
        import pytest

        # The test's own verdict (a pytest failure or skip) is not the replay's: what it
        # recorded is what counts.
        with contextlib.suppress(pytest.fail.Exception, pytest.skip.Exception):
            test(**call)

    measure(target, findings, once, tries_for(target, seconds))
