"""Gathers what the checks found, requirement by requirement, and turns it into verdicts.

A check reports to a `Recorder`: a pass (counted), an observation of open behaviour
(kept once per distinct text), a requirement that cannot be tested on this target, or a
failure (`ConformanceFailure`, raised so that Hypothesis shrinks the sequence behind it).
Recorders from several tests or xdist workers merge; `verdicts` makes the per-requirement
results the reports show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from conformance import requirements
from conformance.results import Exchange, Finding, Outcome, RequirementResult, Untested
from conformance.timeline import Row

MAX_FAILURES_KEPT = 3  # per requirement: the first few tell the story
MAX_OBSERVATIONS_KEPT = 20


class ConformanceFailure(AssertionError):
    """A target's answer broke a requirement. Hypothesis shrinks the steps that led to it."""

    def __init__(self, requirement: str, message: str, exchanges: Iterable[Exchange] = ()):
        super().__init__(f"[{requirement}] {message}")
        self.requirement = requirement
        self.message = message
        self.exchanges = list(exchanges)
        self.steps: list[str] = []
        self.timeline: list[Row] = []  # for operations sent at once, how they overlapped
        # Other requirements the same answer breaks (a 5xx where a refusal was due breaks
        # the probed rule and NO-SERVER-ERROR): each gets a finding of its own.
        self.also_breaks: list[str] = []
        # The draws of the state machine's example that raised it (None outside one): the
        # engine replays them to measure whether the failure comes back.
        self.choices: tuple[int | str | bool | float | bytes, ...] | None = None

    @classmethod
    def of(cls, requirement: str, message: str,
           exchanges: Iterable[Exchange] = ()) -> ConformanceFailure:
        """A failure of a class of its requirement's own, so that Hypothesis, which tells
        bugs apart by exception type, never shrinks one requirement's failure into
        another's."""
        kind = _FAILURE_TYPES.get(requirement)
        if kind is None:
            name = "Broke_" + requirement.replace("-", "_")
            kind = _FAILURE_TYPES[requirement] = type(name, (cls,), {})
        return kind(requirement, message, exchanges)

    def to_finding(self, source: str) -> Finding:
        return Finding(self.requirement, Outcome.FAIL, self.message, list(self.steps),
                       self.exchanges, source, list(self.timeline))

    def to_findings(self, source: str) -> list[Finding]:
        """One finding per broken requirement, all with the same steps and evidence."""
        return [self.to_finding(source)] + [
            Finding(other, Outcome.FAIL, self.message, list(self.steps), self.exchanges, source,
                    list(self.timeline))
            for other in self.also_breaks]


_FAILURE_TYPES: dict[str, type[ConformanceFailure]] = {}


class Recorder:
    def __init__(self) -> None:
        self.passes: Counter[str] = Counter()
        self.failures: list[Finding] = []
        self.observations: dict[str, Counter[str]] = {}
        self.not_testable: dict[str, str] = {}
        self.untested_causes: dict[str, str] = {}  # requirement -> Untested value
        self.first_failure_s: float | None = None  # seconds into the run, for mutant reports
        # --requirements / --skip: requirement -> why it is not judged (nothing is recorded)
        self.left_out: dict[str, str] = {}
        # The checks a scenario was for: requirement -> {scenario: "" when its check ran,
        # else why not}. A requirement with one not run is not PASS (`verdicts`).
        self.coverage: dict[str, dict[str, str]] = {}

    # --- what checks call -------------------------------------------------------------

    def leave_out(self, left_out: dict[str, str]) -> None:
        """Judge none of these requirements (the run's selection): what checks report of
        them is dropped, and each is not testable for the reason given."""
        self.left_out.update(left_out)

    def passed(self, requirement: str) -> None:
        if requirement not in self.left_out:
            self.passes[requirement] += 1

    def observe(self, requirement: str, observation: str) -> None:
        if requirement in self.left_out:
            return
        self.observations.setdefault(requirement, Counter())[observation] += 1

    def cannot_test(self, requirement: str, reason: str,
                    cause: Untested = Untested.TARGET) -> None:
        """The requirement cannot be tested in this run, for the cause given: the target
        lacks what it needs, or the run's settings leave it out. (A requirement nothing
        checked and nobody excused is untested for the suite's own reasons: incomplete.)"""
        self.not_testable.setdefault(requirement, reason)
        self.untested_causes.setdefault(requirement, cause.value)

    def planned_check(self, requirement: str, where: str, why_not: str = "") -> None:
        """A check of `requirement` that `where` (a scenario) was for: it ran, or, when
        `why_not` says why, it did not. A check that ran anywhere counts as run."""
        if requirement in self.left_out:
            return
        checks = self.coverage.setdefault(requirement, {})
        if why_not:
            checks.setdefault(where, why_not)  # a run of it before or after wins
        else:
            checks[where] = ""

    def activity(self, requirement: str) -> int:
        """How many times anything was recorded of `requirement`: a scenario compares it
        before and after, to know whether its check ran."""
        return self.passes.get(requirement, 0) + sum(
            f.requirement == requirement for f in self.failures) + sum(
            self.observations.get(requirement, Counter()).values())

    def failed(self, finding: Finding, at_s: float | None = None) -> None:
        if finding.requirement in self.left_out:
            return
        self.failures.append(finding)
        if at_s is not None and self.first_failure_s is None:
            self.first_failure_s = at_s

    def failed_requirements(self) -> set[str]:
        return {f.requirement for f in self.failures}

    def has_fatal_failure(self) -> bool:
        return any(requirements.is_fatal(f.requirement) for f in self.failures)

    # --- transport between processes ---------------------------------------------------

    def clear(self) -> None:
        """Forgets what was recorded (it has been handed on), keeping the first-failure time."""
        self.passes.clear()
        self.failures.clear()
        self.observations.clear()
        self.not_testable.clear()
        self.untested_causes.clear()
        self.coverage.clear()

    def to_dict(self) -> dict[str, Any]:
        return {
            "passes": dict(self.passes),
            "failures": [f.to_dict() for f in self.failures],
            "observations": {k: dict(v) for k, v in self.observations.items()},
            "not_testable": dict(self.not_testable),
            "untested_causes": dict(self.untested_causes),
            "coverage": {k: dict(v) for k, v in self.coverage.items()},
            "first_failure_s": self.first_failure_s,
        }

    def merge(self, data: dict[str, Any]) -> None:
        self.passes.update(data["passes"])
        self.failures.extend(Finding.from_dict(f) for f in data["failures"])
        for req, seen in data["observations"].items():
            self.observations.setdefault(req, Counter()).update(seen)
        for req, reason in data["not_testable"].items():
            self.not_testable.setdefault(req, reason)
        for req, cause in data.get("untested_causes", {}).items():
            self.untested_causes.setdefault(req, cause)
        for req, checks in data.get("coverage", {}).items():
            for where, why_not in checks.items():
                self.planned_check(req, where, why_not)
        theirs = data.get("first_failure_s")
        if theirs is not None and (self.first_failure_s is None or theirs < self.first_failure_s):
            self.first_failure_s = theirs

    # --- verdicts ---------------------------------------------------------------------

    def verdicts(self) -> list[RequirementResult]:
        """One result per catalog requirement, in catalog order."""
        failures_by_req: dict[str, list[Finding]] = {}
        for finding in self.failures:
            failures_by_req.setdefault(finding.requirement, []).append(finding)
        results = []
        for req in requirements.CATALOG.values():
            failures = failures_by_req.get(req.id, [])
            seen = self.observations.get(req.id, Counter())
            passes = self.passes.get(req.id, 0)
            result = RequirementResult(
                id=req.id, level=req.level.value, title=req.title, source=req.source,
                status=Outcome.PASS, checks=passes + len(failures) + sum(seen.values()),
                passed=passes, failures=failures[:MAX_FAILURES_KEPT],
                observations=[f"{text} (x{n})" for text, n in seen.most_common()][
                    :MAX_OBSERVATIONS_KEPT],
            )
            if req.id in self.left_out:
                result.status = Outcome.NOT_TESTABLE
                result.untested_cause = Untested.LEFT_OUT.value
                result.not_testable_reason = self.left_out[req.id]
            elif failures:
                result.status = Outcome.FAIL
            elif req.level is requirements.Level.INFO:
                result.status = Outcome.INFO if seen else Outcome.NOT_TESTABLE
                result.not_testable_reason = "" if seen else "not observed in this run"
            elif passes == 0:
                result.status = Outcome.NOT_TESTABLE
                result.untested_cause = self.untested_causes.get(
                    req.id, Untested.INCOMPLETE.value)
                result.not_testable_reason = self.not_testable.get(
                    req.id, "no check of it ran in this run: the run is incomplete "
                    "(exploration stopped early, or never reached it)")
            elif not_run := self._not_run(req.id):
                # A PASS only with its checks run: which ran, which did not and why.
                result.status = Outcome.NOT_TESTABLE
                result.untested_cause = Untested.INCOMPLETE.value
                result.not_run = not_run
                ran = [where for where, why in self.coverage[req.id].items() if not why]
                result.not_testable_reason = (
                    f"{passes} check(s) passed, but not every check of it ran; "
                    f"ran: {'; '.join(ran) or 'none of its scenarios'}; "
                    f"not run: {'; '.join(not_run)}")
            elif unobserved := self._unobserved(req, failures_by_req):
                result.status = Outcome.NOT_TESTABLE
                result.untested_cause = Untested.TARGET.value
                result.not_testable_reason = unobserved
            results.append(result)
        return results

    def _not_run(self, requirement: str) -> list[str]:
        """"scenario (why)" for each check planned for `requirement` that never ran."""
        return [f"{where} ({why})" for where, why in self.coverage.get(requirement, {}).items()
                if why]

    def _unobserved(self, req: requirements.Requirement,
                    failures_by_req: dict[str, list[Finding]]) -> str:
        """Why `req`'s passes prove nothing, when they need another requirement's checks to
        be seen at all (`Requirement.observed_by`) and none of those held; else ""."""
        if not req.observed_by:
            return ""
        held = [r for r in req.observed_by
                if self.passes.get(r, 0) and r not in failures_by_req]
        if held:
            return ""
        states = [f"{r} {'failed' if r in failures_by_req else 'did not run'}"
                  for r in req.observed_by]
        return (f"its checks passed, but nothing could observe it: {req.observed_by_why} "
                f"({', '.join(states)})")
