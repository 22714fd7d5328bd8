"""What the schema checks found: passes counted, failures and observations kept once each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from conformance.evidence import Redactor
from conformance.results import Exchange, Finding, Outcome
from conformance.schema.cases import SOURCE


@dataclass
class Findings:
    """Collects outcomes: passes counted per (requirement, operation), failures and INFO
    observations deduplicated, the first example of each kept.

    A target may echo the key into a body or a message; the redactor scrubs every text
    as the finding is made, and exchanges come redacted from `SchemaEvidence`.
    """

    redactor: Redactor
    passes: dict[tuple[str, str], int] = field(default_factory=dict)
    failures: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    observations: dict[tuple[str, str], Finding] = field(default_factory=dict)

    def passed(self, requirement: str, operation: str) -> None:
        key = (requirement, operation)
        self.passes[key] = self.passes.get(key, 0) + 1

    def failed(self, requirement: str, operation: str, kind: str, message: str,
               exchange: Callable[[], Exchange], steps: list[str], source: str) -> None:
        """Keeps the first failure of a kind; `exchange` is only built for that one."""
        key = (requirement, operation, kind)
        if key not in self.failures:
            self.failures[key] = Finding(
                requirement, Outcome.FAIL, self.redactor.text(f"{operation}: {message}"),
                [self.redactor.text(s) for s in steps], [exchange()], source)

    def observed(self, requirement: str, operation: str, message: str, source: str) -> None:
        text = self.redactor.text(f"{operation}: {message}")
        self.observations.setdefault(
            (requirement, text), Finding(requirement, Outcome.INFO, text, [], [], source))

    def result(self) -> list[Finding]:
        """A PASS per (requirement, operation) that never failed, then failures and INFO."""
        failed = {(req, op) for req, op, _ in self.failures}
        found = [
            Finding(req, Outcome.PASS, f"{op}: {n} answer(s) conformed", [], [], SOURCE)
            for (req, op), n in sorted(self.passes.items()) if (req, op) not in failed
        ]
        return found + list(self.failures.values()) + list(self.observations.values())
