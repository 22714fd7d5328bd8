"""What a run found: HTTP exchanges, per-check findings, per-requirement verdicts.

These plain dataclasses are the one vocabulary shared by the checks (which produce
`Finding`s), the pytest plugin (which gathers them, across xdist workers too) and the
report writers (which render a `RunReport`). They convert to and from JSON-able dicts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from conformance.timeline import Row

REPORT_SCHEMA_VERSION = "1.4"


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


@dataclass(frozen=True, slots=True)
class Reproduction:
    """How often a finding came back when it was replayed in the run that found it (1.4):
    a stateful finding's shrunk example, or a fixed scenario's test, run again."""

    reproduced: int
    tries: int  # 0: it could not be replayed (`why` says why)
    why: str = ""

    @property
    def label(self) -> str:
        """"deterministic (3 of 3)", "flaky (1 of 3)", "not reproduced (0 of 3)"."""
        if self.tries == 0:
            return f"not replayed ({self.why})" if self.why else "not replayed"
        counted = f"({self.reproduced} of {self.tries})"
        if self.reproduced == self.tries:
            return f"deterministic {counted}"
        return f"flaky {counted}" if self.reproduced else f"not reproduced {counted}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"reproduced": self.reproduced, "tries": self.tries}
        if self.why:
            data["why"] = self.why
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reproduction:
        return _restore(cls, data)


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
    test: str = ""  # the suite's test that found it ("test_probes.py::test_x"): for replay
    replay: Reproduction | None = None  # a failure's replays in its own run (1.4)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if not self.timeline:  # schema 1.2: only a race's failure carries one
            del data["timeline"]
        if not self.test:  # schema 1.3: only the findings of a run of the suite's tests
            del data["test"]
        if self.replay is None:  # schema 1.4: only a failure found by the suite's tests
            del data["replay"]
        else:
            data["replay"] = self.replay.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return _restore(cls, data, outcome=Outcome,
                        exchanges=lambda items: [Exchange.from_dict(e) for e in items],
                        timeline=lambda items: [Row.from_dict(row) for row in items],
                        replay=lambda d: Reproduction.from_dict(d) if d else None)


class Untested(StrEnum):
    """Why a requirement was not tested: only INCOMPLETE keeps a run from a verdict."""

    TARGET = "target"  # the target lacks what the check needs (test controls, downloads)
    SETTINGS = "settings"  # the run's settings leave it out (profile, no SDK, -n)
    INCOMPLETE = "incomplete"  # the suite's own reason: nothing ran it
    LEFT_OUT = "left out"  # --requirements / --skip: the user chose not to judge it (1.3)


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
    # Checks planned for it that did not run, "scenario (why)": then it is not PASS (1.4)
    not_run: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "failures": [f.to_dict() for f in self.failures]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequirementResult:
        return _restore(cls, data, status=Outcome,
                        failures=lambda items: [Finding.from_dict(f) for f in items])


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
    selection: str = ""  # "--requirements X --skip Y": a partial run; "" judges everything
    max_examples: int | None = None  # --max-examples, when given (1.3): replay uses it too
    # What the run created on the target and left there (conformance.client.ledger), 1.3
    cleanup: dict[str, Any] | None = None
    schema_version: str = REPORT_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = {"schema_version": self.schema_version, **dataclasses.asdict(self)}
        del data["requirements"]  # last, after the summary: the long list reads at the end
        if not data["selection"]:
            del data["selection"]  # 1.3's field, there only in a partial run
        if data["max_examples"] is None:
            del data["max_examples"]  # 1.3's field, there only when --max-examples was given
        if data["cleanup"] is None:
            del data["cleanup"]  # 1.3's field: a run that could not start created nothing
        return {**data, "summary": self.summary(),
                "requirements": [r.to_dict() for r in self.requirements]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        return _restore(cls, data, requirements=lambda items: [
            RequirementResult.from_dict(r) for r in items])

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


def _restore(cls: Any, data: dict[str, Any], **convert: Callable[[Any], Any]) -> Any:
    """A dataclass from its dict: the fields it names (a missing one takes its default,
    a derived key such as `summary` is ignored), nested values rebuilt by `convert`."""
    values = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
    for name, rebuild in convert.items():
        if name in values:
            values[name] = rebuild(values[name])
    return cls(**values)
