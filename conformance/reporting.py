"""From merged findings to a `RunReport`: verdicts, exit status, baseline, versions.

Exit statuses (the design's contract): 0 every MUST requirement passed (or failed only
as a deviation accepted by the baseline); 1 a MUST requirement failed; 2 the run itself
could not be done.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from conformance.evidence import Redactor
from conformance.recorder import Recorder
from conformance.results import Outcome, RunReport, Untested

EXIT_CONFORMANT, EXIT_NOT_CONFORMANT, EXIT_RUN_FAILED = 0, 1, 2


@dataclass(frozen=True, slots=True)
class RunFacts:
    """The header of a report: what was tested, how, when and for how long."""

    target: str
    target_kind: str
    profile: str
    seed: int
    adapter: str = "http"
    started_at: str = ""
    duration_s: float = 0.0
    selection: str = ""  # --requirements / --skip, as given
    max_examples: int | None = None  # --max-examples, when given


def versions() -> dict[str, str]:
    """The versions of Python and of the suite's packages (the adapter adds its own)."""
    found = {"python": platform.python_version()}
    for package in ("uploads-conformance", "hypothesis", "schemathesis", "httpx", "pytest"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def build_report(recorder: Recorder, errors: list[str], facts: RunFacts) -> RunReport:
    report = RunReport(
        target=facts.target, target_kind=facts.target_kind, profile=facts.profile,
        seed=facts.seed, started_at=facts.started_at or now_iso(),
        duration_s=facts.duration_s, versions=versions(), requirements=recorder.verdicts(),
        exit_status=0, verdict="", adapter=facts.adapter, errors=list(errors),
        selection=facts.selection, max_examples=facts.max_examples,
    )
    settle(report)
    return report


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def settle(report: RunReport) -> None:
    """Sets the exit status and the one-line verdict from the requirements and errors."""
    summary = report.summary()
    if report.errors:
        report.exit_status = EXIT_RUN_FAILED
        report.verdict = f"The run could not be completed: {report.errors[0]}"
    elif summary["must_failed"]:
        report.exit_status = EXIT_NOT_CONFORMANT
        report.verdict = (f"NOT CONFORMANT: {summary['must_failed']} MUST requirement(s) "
                          "failed")
    elif incomplete := report.incomplete_musts():
        report.exit_status = EXIT_RUN_FAILED
        report.verdict = (f"INCOMPLETE: {len(incomplete)} MUST requirement(s) never ran "
                          f"({', '.join(incomplete)}), so the run cannot call the target "
                          "conformant; see each one's reason")
    elif report.selection and not _judged_any(report):
        report.exit_status = EXIT_RUN_FAILED
        report.verdict = (f"NOTHING TESTED: no requirement that {report.selection} selects "
                          "could be tested on this target with these settings")
    elif report.selection:
        # A partial run passes what it judged; it cannot call the target conformant.
        report.exit_status = EXIT_CONFORMANT
        report.verdict = (f"SELECTED REQUIREMENTS PASS: every selected MUST requirement "
                          f"that applies ran and passed ({report.selection}); a partial "
                          "run, not a conformance verdict")
    elif summary["baseline_accepted"]:
        report.exit_status = EXIT_CONFORMANT
        report.verdict = ("CONFORMANT APART FROM THE BASELINE: no MUST failure beyond "
                          "the accepted deviations")
    else:
        report.exit_status = EXIT_CONFORMANT
        report.verdict = "CONFORMANT: every MUST requirement that applies ran and passed"
    extras = []
    if summary["should_failed"]:
        extras.append(f"{summary['should_failed']} SHOULD requirement(s) failed")
    if summary["baseline_accepted"]:
        extras.append(f"{summary['baseline_accepted']} failure(s) accepted by the baseline")
    left_out = sum(r.untested_cause == Untested.LEFT_OUT.value for r in report.requirements)
    if summary[Outcome.NOT_TESTABLE.value] > left_out:
        extras.append(f"{summary[Outcome.NOT_TESTABLE.value] - left_out} requirement(s) not "
                      "testable here")
    if left_out:
        extras.append(f"{left_out} left out by the selection")
    if extras and not report.errors:
        report.verdict += " (" + "; ".join(extras) + ")"


def _judged_any(report: RunReport) -> bool:
    return any(r.status in (Outcome.PASS, Outcome.FAIL) for r in report.requirements)


def run_failed_report(facts: RunFacts, error: str) -> RunReport:
    """The report of a run that could not be done (bad target, internal error)."""
    return build_report(Recorder(), [error], facts)


def redacted(report: RunReport, *secrets: str | None) -> RunReport:
    """A copy of the report with the secrets scrubbed from every text in it: a check's
    message may quote an answer that echoed the key, and the report is shown and written."""
    redactor = Redactor(*secrets)
    return RunReport.from_dict(_scrub(report.to_dict(), redactor))


def _scrub(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, dict):
        return {key: _scrub(item, redactor) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, redactor) for item in value]
    return value


# --- baselines: deviations a team has accepted ---------------------------------------------

BASELINE_VERSION = 1


def failed_ids(report: RunReport) -> list[str]:
    """The failed requirements, sorted: what a baseline written from this run accepts."""
    return sorted(r.id for r in report.requirements if r.status is Outcome.FAIL)


def write_baseline(report: RunReport, path: Path) -> list[str]:
    failed = failed_ids(report)
    path.write_text(json.dumps({
        "baseline_version": BASELINE_VERSION,
        "target": report.target,
        "accepted_deviations": failed,
        "note": "Requirement IDs whose failure is accepted; remove an ID once it is fixed.",
    }, indent=2) + "\n")
    return failed


def read_baseline(path: Path) -> set[str]:
    """The accepted requirement IDs; ValueError with a readable reason if the file is bad."""
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise ValueError(f"cannot read the baseline {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"the baseline {path} is not JSON: {error}") from None
    ids = data.get("accepted_deviations") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError(f"the baseline {path} has no list 'accepted_deviations'")
    return set(ids)


def apply_baseline(report: RunReport, accepted: set[str], source: str) -> None:
    report.baseline_file = source
    for result in report.requirements:
        result.baseline = result.status is Outcome.FAIL and result.id in accepted
    settle(report)
