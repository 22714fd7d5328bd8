"""Turns what a suite test recorded into its pytest outcome."""

from __future__ import annotations

import pytest

from conformance import requirements
from conformance.target import Target


def _broken(target: Target, since: int) -> list[str]:
    """The MUST requirements failed by findings after index `since`."""
    return sorted({f.requirement for f in target.recorder.failures[since:]
                   if requirements.is_fatal(f.requirement)})


def fail_on_broken_musts(target: Target, since: int) -> None:
    """Fails the running test if it recorded a MUST failure (findings after index `since`)."""
    broken = _broken(target, since)
    if broken:
        messages = [f"{f.requirement}: {f.message}" for f in target.recorder.failures[since:]
                    if f.requirement in broken]
        pytest.fail("MUST requirement(s) broken:\n  " + "\n  ".join(messages), pytrace=False)


def stop_early(target: Target, since: int) -> bool:
    """Whether a fail-fast run (a mutant's) has its verdict: a MUST failure since `since`,
    so the test's remaining rounds would only delay it."""
    return target.fail_fast and bool(_broken(target, since))
