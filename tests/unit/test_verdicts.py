"""From findings to requirement verdicts, exit statuses and baselines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.recorder import ConformanceFailure, Recorder
from conformance.reporting import (
    RunFacts,
    apply_baseline,
    build_report,
    read_baseline,
    write_baseline,
)
from conformance.requirements import CATALOG, Level
from conformance.results import Outcome, RunReport, Untested

FACTS = RunFacts(target="http://127.0.0.1:1/v1", target_kind="external", profile="quick",
                 seed=7)


def by_id(report: RunReport) -> dict[str, Outcome]:
    return {r.id: r.status for r in report.requirements}


def every_must_ran() -> Recorder:
    """A recorder in which every MUST requirement was checked once and held."""
    recorder = Recorder()
    for requirement in CATALOG.values():
        if requirement.level is Level.MUST:
            recorder.passed(requirement.id)
    return recorder


def test_passes_failures_and_observations_become_verdicts() -> None:
    recorder = Recorder()
    recorder.passed("CREATE-VALID")
    recorder.passed("PART-VALID")
    recorder.failed(ConformanceFailure("PART-VALID", "refused").to_finding("t"))
    recorder.observe("OPEN-CANCEL-TWICE", "already cancelled: refused (400)")
    recorder.cannot_test("EXPIRY-ENFORCED", "no test controls")
    report = build_report(recorder, [], FACTS)
    verdicts = by_id(report)
    assert verdicts["CREATE-VALID"] is Outcome.PASS
    assert verdicts["PART-VALID"] is Outcome.FAIL
    assert verdicts["OPEN-CANCEL-TWICE"] is Outcome.INFO
    assert verdicts["EXPIRY-ENFORCED"] is Outcome.NOT_TESTABLE
    assert verdicts["COMPLETE-MD5"] is Outcome.NOT_TESTABLE  # never checked: not a pass
    assert report.exit_status == 1


def test_should_failures_and_info_do_not_fail_the_run() -> None:
    recorder = every_must_ran()
    recorder.failed(ConformanceFailure("UPLOAD-CREATED-AT", "an hour off").to_finding("t"))
    recorder.observe("OPEN-REFUSAL-CODE", "COMPLETE-STATE: 409")
    report = build_report(recorder, [], FACTS)
    assert report.exit_status == 0
    assert "SHOULD" in report.verdict


def test_an_internal_error_makes_exit_status_2() -> None:
    report = build_report(Recorder(), ["target unreachable"], FACTS)
    assert report.exit_status == 2


def test_recorders_merge_across_workers() -> None:
    first, second = Recorder(), Recorder()
    first.passed("CREATE-VALID")
    second.passed("CREATE-VALID")
    second.failed(ConformanceFailure("COMPLETE-MD5", "accepted a wrong md5").to_finding("t"),
                  at_s=3.0)
    merged = Recorder()
    merged.merge(json.loads(json.dumps(first.to_dict())))
    merged.merge(json.loads(json.dumps(second.to_dict())))
    assert merged.passes["CREATE-VALID"] == 2
    assert merged.failed_requirements() == {"COMPLETE-MD5"}
    assert merged.first_failure_s == 3.0


def test_a_baseline_accepts_known_deviations_only(tmp_path: Path) -> None:
    recorder = every_must_ran()
    recorder.failed(ConformanceFailure("COMPLETE-MD5", "md5 ignored").to_finding("t"))
    report = build_report(recorder, [], FACTS)
    baseline = tmp_path / "baseline.json"
    assert write_baseline(report, baseline) == ["COMPLETE-MD5"]
    apply_baseline(report, read_baseline(baseline), str(baseline))
    assert report.exit_status == 0
    recorder.failed(ConformanceFailure("PART-AFTER-END", "took a part").to_finding("t"))
    newer = build_report(recorder, [], FACTS)
    apply_baseline(newer, read_baseline(baseline), str(baseline))
    assert newer.exit_status == 1
    assert [r.id for r in newer.requirements if r.baseline] == ["COMPLETE-MD5"]


@pytest.mark.parametrize("content", ["not json", "[]", '{"accepted_deviations": [1]}'])
def test_a_bad_baseline_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="baseline"):
        read_baseline(path)


def test_a_must_nothing_ran_makes_the_run_incomplete_not_conformant() -> None:
    recorder = every_must_ran()
    recorder.passes.pop("COMPLETE-INVALID")
    report = build_report(recorder, [], FACTS)
    result = next(r for r in report.requirements if r.id == "COMPLETE-INVALID")
    assert result.status is Outcome.NOT_TESTABLE
    assert result.untested_cause == Untested.INCOMPLETE.value
    assert report.exit_status == 2
    assert report.verdict.startswith("INCOMPLETE") and "COMPLETE-INVALID" in report.verdict


@pytest.mark.parametrize("cause", [Untested.TARGET, Untested.SETTINGS])
def test_a_must_the_target_or_the_settings_exclude_leaves_the_run_conformant(
        cause: Untested) -> None:
    recorder = every_must_ran()
    recorder.passes.pop("EXPIRY-ENFORCED")
    recorder.cannot_test("EXPIRY-ENFORCED", "no test controls", cause)
    report = build_report(recorder, [], FACTS)
    result = next(r for r in report.requirements if r.id == "EXPIRY-ENFORCED")
    assert (result.status, result.untested_cause) == (Outcome.NOT_TESTABLE, cause.value)
    assert report.exit_status == 0


def test_a_must_failure_outranks_an_incomplete_run() -> None:
    recorder = every_must_ran()
    recorder.passes.pop("COMPLETE-INVALID")
    recorder.failed(ConformanceFailure("COMPLETE-MD5", "md5 ignored").to_finding("t"))
    assert build_report(recorder, [], FACTS).exit_status == 1


def test_untested_causes_travel_between_workers() -> None:
    worker = Recorder()
    worker.cannot_test("EXPIRY-ENFORCED", "clock shared", Untested.SETTINGS)
    merged = Recorder()
    merged.merge(json.loads(json.dumps(worker.to_dict())))
    assert merged.untested_causes == {"EXPIRY-ENFORCED": "settings"}
