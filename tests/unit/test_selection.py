"""`--requirements` / `--skip`: what they select, how a typo is refused, and how a partial
run is judged (it passes what it judged; it never calls a target conformant)."""

from __future__ import annotations

import dataclasses

import pytest

from conformance import requirements
from conformance.recorder import Recorder
from conformance.reporting import RunFacts, build_report
from conformance.results import Finding, Outcome, RunReport, Untested
from conformance.selection import Selection

FACTS = RunFacts(target="t", target_kind="external", profile="quick", seed=1)


def test_ids_and_patterns_select_without_regard_to_case() -> None:
    selection = Selection.parse("complete-md5,PART-*", None)
    judged = set(requirements.CATALOG) - set(selection.left_out)
    assert "COMPLETE-MD5" in judged and "PART-SIZE-LIMIT" in judged
    assert all(r == "COMPLETE-MD5" or r.startswith("PART-") for r in judged)
    assert selection.left_out["CREATE-VALID"] == "not among --requirements"
    assert selection.described == "--requirements complete-md5,PART-*"


def test_skip_leaves_out_only_what_it_names() -> None:
    selection = Selection.parse(None, "COMPLETE-MD5")
    assert selection.left_out == {"COMPLETE-MD5": "left out by --skip"}
    assert Selection.parse(None, None).left_out == {}


@pytest.mark.parametrize(("only", "skip", "words"), [
    ("COMPLETE-MD", None, "did you mean COMPLETE-MD5"),
    (None, "NO-SUCH-*", "names no requirement"),
    (",", None, "names no requirement"),
    ("*", "*", "leaves out every requirement"),
])
def test_an_item_that_names_nothing_is_an_error(only: str | None, skip: str | None,
                                                words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Selection.parse(only, skip)


def _report(selection: Selection, *, fail: str | None = None,
            passes: tuple[str, ...] = (), untestable: tuple[str, ...] = ()) -> RunReport:
    recorder = Recorder()
    recorder.leave_out(selection.left_out)
    for requirement in untestable:
        recorder.cannot_test(requirement, "the target offers no test controls")
    for requirement in passes:
        recorder.passed(requirement)
    if fail is not None:
        recorder.failed(Finding(fail, Outcome.FAIL, "broken", [], []))
    facts = dataclasses.replace(FACTS, selection=selection.described)
    return build_report(recorder, [], facts)


def test_a_left_out_failure_neither_counts_nor_shows() -> None:
    report = _report(Selection.parse(None, "COMPLETE-MD5"), fail="COMPLETE-MD5",
                     passes=tuple(requirements.CATALOG))
    result = next(r for r in report.requirements if r.id == "COMPLETE-MD5")
    assert result.status is Outcome.NOT_TESTABLE and result.failures == []
    assert result.untested_cause == Untested.LEFT_OUT.value
    assert report.exit_status == 0
    assert report.verdict.startswith("SELECTED REQUIREMENTS PASS") and "--skip" in \
        report.verdict
    assert "CONFORMANT:" not in report.verdict


def test_a_selected_failure_fails_the_run() -> None:
    report = _report(Selection.parse("COMPLETE-MD5", None), fail="COMPLETE-MD5")
    assert report.exit_status == 1 and report.verdict.startswith("NOT CONFORMANT")


def test_a_selection_of_which_nothing_could_be_tested_exits_2() -> None:
    report = _report(Selection.parse("EXPIRY-ENFORCED", None), untestable=("EXPIRY-ENFORCED",))
    assert report.exit_status == 2 and report.verdict.startswith("NOTHING TESTED")
    untested = _report(Selection.parse("EXPIRY-ENFORCED", None))  # nothing ran it at all
    assert untested.exit_status == 2 and untested.verdict.startswith("INCOMPLETE")


def test_without_a_selection_nothing_is_left_out() -> None:
    report = _report(Selection.parse(None, None), fail="COMPLETE-MD5")
    assert report.selection == "" and report.exit_status == 1
    assert "selection" not in report.to_dict()
