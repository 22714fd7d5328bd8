"""Turns what a suite test recorded into its pytest outcome."""

from __future__ import annotations

import pytest

from conformance import requirements
from conformance.target import Target


def fail_on_broken_musts(target: Target, since: int) -> None:
    """Fails the running test if it recorded a MUST failure (findings after index `since`)."""
    broken = sorted({f.requirement for f in target.recorder.failures[since:]
                     if requirements.is_fatal(f.requirement)})
    if broken:
        messages = [f"{f.requirement}: {f.message}" for f in target.recorder.failures[since:]
                    if f.requirement in broken]
        pytest.fail("MUST requirement(s) broken:\n  " + "\n  ".join(messages), pytrace=False)
