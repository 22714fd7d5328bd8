"""What a run found: HTTP exchanges, per-check findings, per-requirement verdicts.

These plain dataclasses are the one vocabulary shared by the checks (which produce
`Finding`s), the pytest plugin (which gathers them, across xdist workers too) and the
report writers (which render a `RunReport`). They convert to and from JSON-able dicts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from conformance.timeline import Row

REPORT_SCHEMA_VERSION = "1.2"


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INFO = "info"  # an observation of behaviour the documentation leaves open
    NOT_TESTABLE = "not_testable"  # the target lacks what the check needs (e.g. test controls)


@dataclass(slots=True)
class Exchange:
    """One HTTP request and its answer, credentials already redacted."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str  # a preview: text, or a summary such as "<multipart: data=1048576 bytes>"
    status: int | None  # None when no answer arrived (timeout, reset, refused)
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""  # a preview, truncated
    error: str | None = None  # transport error, when status is None
    duration_s: float = 0.0
    curl: str = ""  # a copy-paste reproduction, with the key as $OPENAI_API_KEY

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Exchange:
        return cls(**data)


@dataclass(slots=True)
class Finding:
    """The result of one check of one requirement."""

    requirement: str
    outcome: Outcome
    message: str
    steps: list[str] = field(default_factory=list)  # the (shrunk) sequence that led here
    exchanges: list[Exchange] = field(default_factory=list)
    source: str = ""  # which part of the suite produced it (test node id, "schemathesis", ...)
    # For operations sent at once: each one's interval and answer (a race's failure).
    timeline: list[Row] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "requirement": self.requirement,
            "outcome": self.outcome.value,
            "message": self.message,
            "steps": list(self.steps),
            "exchanges": [e.to_dict() for e in self.exchanges],
            "source": self.source,
        }
        if self.timeline:
            data["timeline"] = [row.to_dict() for row in self.timeline]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            requirement=data["requirement"],
            outcome=Outcome(data["outcome"]),
            message=data["message"],
            steps=list(data.get("steps", [])),
            exchanges=[Exchange.from_dict(e) for e in data.get("exchanges", [])],
            source=data.get("source", ""),
            timeline=[Row.from_dict(row) for row in data.get("timeline", [])],
        )


class Untested(StrEnum):
    """Why a requirement was not tested: only INCOMPLETE keeps a run from a verdict."""

    TARGET = "target"  # the target lacks what the check needs (test controls, downloads)
    SETTINGS = "settings"  # the run's settings leave it out (profile, no SDK, -n)
    INCOMPLETE = "incomplete"  # the suite's own reason: nothing ran it


@dataclass(slots=True)
class RequirementResult:
    """The verdict on one requirement, with the evidence behind it."""

    id: str
    level: str  # MUST / SHOULD / INFO
    title: str
    source: str
    status: Outcome
    checks: int = 0  # how many checks touched it
    passed: int = 0
    failures: list[Finding] = field(default_factory=list)  # at most a few, the first ones
    observations: list[str] = field(default_factory=list)  # distinct INFO observations
    not_testable_reason: str = ""
    baseline: bool = False  # a failure accepted by --baseline
    untested_cause: str = ""  # an Untested value when status is NOT_TESTABLE

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "level": self.level,
            "title": self.title,
            "source": self.source,
            "status": self.status.value,
            "checks": self.checks,
            "passed": self.passed,
            "failures": [f.to_dict() for f in self.failures],
            "observations": list(self.observations),
            "not_testable_reason": self.not_testable_reason,
            "baseline": self.baseline,
            "untested_cause": self.untested_cause,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequirementResult:
        return cls(
            id=data["id"],
            level=data["level"],
            title=data["title"],
            source=data["source"],
            status=Outcome(data["status"]),
            checks=data.get("checks", 0),
            passed=data.get("passed", 0),
            failures=[Finding.from_dict(f) for f in data.get("failures", [])],
            observations=list(data.get("observations", [])),
            not_testable_reason=data.get("not_testable_reason", ""),
            baseline=data.get("baseline", False),
            untested_cause=data.get("untested_cause", ""),
        )


@dataclass(slots=True)
class RunReport:
    """Everything report.json holds; the other reports are renderings of it."""

    target: str  # the base URL (never with credentials)
    target_kind: str  # "embedded emulator" / "external" / "embedded emulator (mutant X)"
    profile: str
    seed: int
    started_at: str  # ISO 8601, UTC
    duration_s: float
    versions: dict[str, str]  # suite, python, hypothesis, schemathesis, httpx, adapter/sdk
    requirements: list[RequirementResult]
    exit_status: int  # 0 conformant, 1 a MUST failed, 2 the run could not be done
    verdict: str  # one line for humans
    adapter: str = "http"
    errors: list[str] = field(default_factory=list)  # why a run could not be done, if so
    baseline_file: str | None = None
    schema_version: str = REPORT_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "target": self.target,
            "target_kind": self.target_kind,
            "adapter": self.adapter,
            "profile": self.profile,
            "seed": self.seed,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "versions": dict(self.versions),
            "exit_status": self.exit_status,
            "verdict": self.verdict,
            "errors": list(self.errors),
            "baseline_file": self.baseline_file,
            "summary": self.summary(),
            "requirements": [r.to_dict() for r in self.requirements],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        return cls(
            schema_version=data["schema_version"],
            target=data["target"],
            target_kind=data["target_kind"],
            adapter=data.get("adapter", "http"),
            profile=data["profile"],
            seed=data["seed"],
            started_at=data["started_at"],
            duration_s=data["duration_s"],
            versions=dict(data.get("versions", {})),
            exit_status=data["exit_status"],
            verdict=data["verdict"],
            errors=list(data.get("errors", [])),
            baseline_file=data.get("baseline_file"),
            requirements=[RequirementResult.from_dict(r) for r in data["requirements"]],
        )

    def incomplete_musts(self) -> list[str]:
        """MUST requirements nothing ran for a reason of the suite's own (not the target's
        or the settings'): while there is one, the run gives no verdict (exit 2)."""
        return [r.id for r in self.requirements
                if r.level == "MUST" and r.status is Outcome.NOT_TESTABLE and not r.baseline
                and r.untested_cause == Untested.INCOMPLETE.value]

    def summary(self) -> dict[str, int]:
        """Counts by status, plus failures split by level and baseline."""
        counts = {o.value: 0 for o in Outcome}
        must_failed = should_failed = accepted = 0
        for r in self.requirements:
            counts[r.status.value] += 1
            if r.status is Outcome.FAIL:
                if r.baseline:
                    accepted += 1
                elif r.level == "MUST":
                    must_failed += 1
                else:
                    should_failed += 1
        counts.update(must_failed=must_failed, should_failed=should_failed,
                      baseline_accepted=accepted)
        return counts
