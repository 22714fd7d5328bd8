"""The schema-driven checks against the reference emulator: the clean emulator never
fails, and the mutants whose fault shows in the answers' shapes are caught."""

from __future__ import annotations

import pytest

from conformance.results import Outcome
from conformance.schema import run_schema_checks

emulator = pytest.importorskip("conformance.emulator")

API_KEY = "sk-schema-checks"
# Mutants a schema-driven check can see; the others break rules of state and content,
# which the stateful machine checks.
CAUGHT_BY = {
    "server-error-on-bad-json": "NO-SERVER-ERROR",
    "error-envelope-missing": "ERROR-ENVELOPE",
    "auth-not-enforced": "AUTH-REQUIRED",
    "upload-limit-missing": "SCHEMA-NEGATIVE",
}


def _failed(mutant: str | None, max_examples: int, stateful: bool = True) -> set[str]:
    config = emulator.EmulatorConfig(api_key=API_KEY, mutant=mutant)
    with emulator.EmulatorServer(config) as server:
        findings = run_schema_checks(server.base_url, API_KEY, max_examples=max_examples,
                                     seed=13, stateful=stateful)
    return {f.requirement for f in findings if f.outcome is Outcome.FAIL}


def test_the_clean_emulator_never_fails() -> None:
    assert _failed(None, max_examples=20) == set()


@pytest.mark.parametrize("mutant", sorted(CAUGHT_BY))
def test_mutants_with_visible_faults_are_caught(mutant: str) -> None:
    assert CAUGHT_BY[mutant] in _failed(mutant, max_examples=10, stateful=False)
