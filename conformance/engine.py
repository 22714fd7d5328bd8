"""Runs a state machine against a target until every broken requirement has been found.

Hypothesis stops at the first failure and shrinks it. To report every broken requirement,
not just the first, `explore` records the shrunk failure, waives that requirement (it is
still checked, no longer raised), and runs the machine again, for a bounded number of
rounds.
"""

from __future__ import annotations

import zlib

from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
from hypothesis.internal.conjecture import engine as conjecture_engine
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from conformance import requirements
from conformance.recorder import ConformanceFailure
from conformance.target import Target

FAIL_FAST_SHRINK_SECONDS = 4


def hypothesis_settings(max_examples: int, steps: int) -> settings:
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
    )


def derive_seed(seed: int, name: str, round_: int) -> int:
    return zlib.crc32(f"{seed}:{name}:{round_}".encode())


def _limit_shrinking(seconds: float) -> None:
    # Hypothesis shrinks for up to five minutes; against a live target each replay is a
    # series of requests, so a profile caps it. A private knob: absent, nothing changes.
    if hasattr(conjecture_engine, "MAX_SHRINKING_SECONDS"):
        conjecture_engine.MAX_SHRINKING_SECONDS = int(seconds)


def explore(target: Target, machine: type[RuleBasedStateMachine], name: str,
            max_examples: int | None = None) -> None:
    """Runs `machine` (bound to `target`) and records each broken requirement once."""
    profile = target.profile
    examples = max_examples or profile.max_examples
    # A fail-fast run (a mutant's) wants the verdict more than the smallest example.
    _limit_shrinking(FAIL_FAST_SHRINK_SECONDS if target.fail_fast else profile.shrink_seconds)
    for round_ in range(profile.max_rounds):
        factory = type(machine.__name__, (machine,), {})
        factory._hypothesis_internal_use_seed = derive_seed(  # type: ignore[attr-defined]
            target.seed, name, round_)
        target.checker.first_failure = None
        try:
            run_state_machine_as_test(factory, settings=hypothesis_settings(
                examples, profile.steps))
            return
        except ConformanceFailure as failure:
            _record(target, failure, name)
            if target.fail_fast and requirements.is_fatal(failure.requirement):
                return
        except Flaky as flaky:
            # The target answered differently on replay (a race, or state Hypothesis cannot
            # reset): report the failure as first seen, unshrunk.
            failure = _first_conformance_failure(flaky) or target.checker.first_failure
            if failure is None:
                # Nothing broke: the target just answered a replay differently (a race it
                # may legitimately resolve either way), so Hypothesis cannot go on.
                target.recorder.observe("OPEN-NONDETERMINISM", f"{name}: {_first_line(flaky)}")
                return
            failure.message += (" (seen once, not again on replay: the target's behaviour "
                                "is not deterministic, which a race makes likely)")
            _record(target, failure, name)
            if target.fail_fast and requirements.is_fatal(failure.requirement):
                return


def _record(target: Target, failure: ConformanceFailure, name: str) -> None:
    for finding in failure.to_findings(name):
        target.recorder.failed(finding, at_s=target.elapsed())
        target.checker.waived.add(finding.requirement)


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
