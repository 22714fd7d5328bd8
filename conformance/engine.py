"""Runs a state machine against a target until every broken requirement has been found.

Hypothesis stops at the first failure and shrinks it. To report every broken requirement,
not just the first, `explore` records the shrunk failure, waives that requirement (it is
still checked, no longer raised), and runs the machine again with the next seed, for a
bounded number of rounds. A round that Hypothesis ends because the target answered a
replay differently (`Flaky`) records what it found and goes on to the next round too.
Then each failure's shrunk example is replayed (the same draws, so the same steps) and the
finding says how often it came back: that, not a guess, tells a race from a steady fault.
"""

from __future__ import annotations

import sys
import zlib

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis.control import current_build_context
from hypothesis.core import encode_failure
from hypothesis.errors import DidNotReproduce, Flaky
from hypothesis.internal.conjecture import engine as conjecture_engine
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from conformance import requirements
from conformance.recorder import ConformanceFailure
from conformance.reproduction import measure
from conformance.results import Finding, Reproduction
from conformance.target import Target

FAIL_FAST_SHRINK_SECONDS = 4


def hypothesis_settings(max_examples: int, steps: int,
                        verbosity: Verbosity = Verbosity.normal) -> settings:
    return settings(
        max_examples=max_examples,
        stateful_step_count=steps,
        deadline=None,
        derandomize=False,  # the run's own seed decides (set on the machine class)
        database=None,  # nothing written into the user's working directory
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        phases=(Phase.generate, Phase.target, Phase.shrink),
        print_blob=False,
        verbosity=verbosity,
    )


def derive_seed(seed: int, name: str, round_: int) -> int:
    return zlib.crc32(f"{seed}:{name}:{round_}".encode())


def _limit_shrinking(seconds: float) -> None:
    # Hypothesis shrinks for up to five minutes; against a live target each replay is a
    # series of requests, so a profile caps it. A private knob: absent, nothing changes.
    if hasattr(conjecture_engine, "MAX_SHRINKING_SECONDS"):
        conjecture_engine.MAX_SHRINKING_SECONDS = int(seconds)


def _recording(machine: type[RuleBasedStateMachine]) -> type[RuleBasedStateMachine]:
    """`machine`, keeping on each failure the draws of the example that raised it."""

    def teardown(self: RuleBasedStateMachine) -> None:
        # Hypothesis tears an example down in a `finally`: the failure ending it, if any,
        # is the exception being handled here.
        failure = sys.exc_info()[1]
        if isinstance(failure, ConformanceFailure) and failure.choices is None:
            failure.choices = tuple(current_build_context().data.choices)
        machine.teardown(self)

    return type(machine.__name__, (machine,), {"teardown": teardown})


def explore(target: Target, machine: type[RuleBasedStateMachine], name: str,
            max_examples: int | None = None) -> None:
    """Runs `machine` (bound to `target`), records each broken requirement once, then
    replays each one's shrunk example to measure whether it comes back."""
    profile = target.profile
    examples = max_examples or profile.max_examples
    # A fail-fast run (a mutant's) wants the verdict more than the smallest example.
    _limit_shrinking(FAIL_FAST_SHRINK_SECONDS if target.fail_fast else profile.shrink_seconds)
    recording = _recording(machine)
    found: list[tuple[ConformanceFailure, list[Finding]]] = []
    for round_ in range(profile.max_rounds):
        factory = type(machine.__name__, (recording,), {})
        factory._hypothesis_internal_use_seed = derive_seed(  # type: ignore[attr-defined]
            target.seed, name, round_)
        target.checker.first_failure = None
        try:
            run_state_machine_as_test(factory, settings=hypothesis_settings(
                examples, profile.steps))
            break  # a whole round found nothing new
        except ConformanceFailure as failure:
            found.append((failure, _record(target, failure, name)))
        except Flaky as flaky:
            # The target answered a replay differently (a race, or state the suite cannot
            # reset): Hypothesis stops the round; what it had found is kept, shrunk as far
            # as it got, and the next round goes on with the next seed.
            first = _first_conformance_failure(flaky) or target.checker.first_failure
            if first is None:
                target.recorder.observe("OPEN-NONDETERMINISM", f"{name}: {_first_line(flaky)}")
                continue
            found.append((first, _record(target, first, name)))
        if target.fail_fast and requirements.is_fatal(found[-1][0].requirement):
            break
    for kept, findings in found:
        _replay(target, recording, kept, findings, name, profile.steps)


def _record(target: Target, failure: ConformanceFailure, name: str) -> list[Finding]:
    findings = failure.to_findings(name)
    for finding in findings:
        target.recorder.failed(finding, at_s=target.elapsed())
        target.checker.waived.add(finding.requirement)
    return findings


def _replay(target: Target, machine: type[RuleBasedStateMachine], failure: ConformanceFailure,
            findings: list[Finding], name: str, steps: int) -> None:
    """Replays the failure's example (its draws) `Profile.replays` times."""
    if failure.choices is None:
        for finding in findings:
            finding.replay = Reproduction(0, 0, "its example's draws were not kept")
        return
    blob = encode_failure(failure.choices)
    factory = type(machine.__name__, (machine,), {})
    # What @reproduce_failure sets: the test runs once, on exactly these draws.
    factory._hypothesis_internal_use_reproduce_failure = (  # type: ignore[attr-defined]
        hypothesis.__version__, blob)
    quiet = hypothesis_settings(1, steps, Verbosity.quiet)

    def once() -> None:
        try:
            run_state_machine_as_test(factory, settings=quiet)
        except ConformanceFailure as again:
            for finding in again.to_findings(name):
                target.recorder.failed(finding)
        except (DidNotReproduce, Flaky):
            pass  # the same steps held this time

    measure(target, findings, once, target.profile.replays)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


def _first_conformance_failure(error: BaseException) -> ConformanceFailure | None:
    if isinstance(error, ConformanceFailure):
        return error
    for inner in getattr(error, "exceptions", ()):
        found = _first_conformance_failure(inner)
        if found is not None:
            return found
    return None
