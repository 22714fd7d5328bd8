"""junit.xml: parses, one test case per requirement, the right counts and evidence."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.report import render_junit
from conformance.results import Outcome, RunReport


def _suite(text: str) -> ET.Element:
    root = ET.fromstring(text.encode())
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    return suite


def test_junit_parses_with_the_right_counts(report: RunReport, written: dict[str, Path]) -> None:
    suite = _suite(written["junit"].read_text(encoding="utf-8"))
    cases = suite.findall("testcase")
    assert len(cases) == len(report.requirements) == int(suite.get("tests", "-1"))
    summary = report.summary()
    failed = summary["must_failed"] + summary["should_failed"]
    skipped = summary["not_testable"] + summary["info"] + summary["baseline_accepted"]
    assert int(suite.get("failures", "-1")) == failed == len(suite.findall("testcase/failure"))
    assert int(suite.get("skipped", "-1")) == skipped == len(suite.findall("testcase/skipped"))
    assert suite.get("errors") == "0"
    assert float(suite.get("time", "0")) == report.duration_s


def test_cases_are_named_by_requirement_and_grouped_by_area(report: RunReport) -> None:
    cases = {c.get("name"): c for c in _suite(render_junit(report)).findall("testcase")}
    assert set(cases) == {r.id for r in report.requirements}
    assert cases["PART-SIZE-LIMIT"].get("classname") == "uploads.PART"
    assert cases["COMPLETE-ORDER"].get("classname") == "uploads.COMPLETE"
    assert cases["NO-SERVER-ERROR"].get("classname") == "uploads.ROBUSTNESS"


def test_a_failure_carries_message_steps_exchanges_and_curl(report: RunReport) -> None:
    cases = {c.get("name"): c for c in _suite(render_junit(report)).findall("testcase")}
    failure = cases["PART-SIZE-LIMIT"].find("failure")
    assert failure is not None and failure.get("type") == "MUST"
    assert (failure.get("message") or "").startswith("[MUST] expected 200, got 400")
    text = failure.text or ""
    assert "steps:\n  1. step 0" in text
    assert ">>> request\nPOST http://127.0.0.1:9/v1/uploads" in text
    assert "curl -sS -X POST" in text and "$OPENAI_API_KEY" in text
    should = cases["UPLOAD-CREATED-AT"].find("failure")
    assert should is not None and should.get("type") == "SHOULD"


def test_skips_say_why(report: RunReport) -> None:
    cases = {c.get("name"): c for c in _suite(render_junit(report)).findall("testcase")}
    accepted = cases["CANCEL-STATE"].find("skipped")
    assert accepted is not None
    assert (accepted.get("message") or "").startswith("accepted deviation (baseline)")
    untestable = cases["EXPIRY-ENFORCED"].find("skipped")
    assert untestable is not None and "no test controls" in (untestable.get("message") or "")
    info = cases["OPEN-REFUSAL-CODE"].find("skipped")
    assert info is not None and "create refused with 400" in (info.get("message") or "")
    passed = cases["CREATE-VALID"]
    assert passed.find("failure") is None and passed.find("skipped") is None


def test_a_run_that_could_not_be_done_has_an_error_case(report: RunReport) -> None:
    broken = RunReport.from_dict(report.to_dict())
    broken.errors = ["target unreachable: ConnectError \x00"]
    broken.exit_status = 2
    suite = _suite(render_junit(broken))
    assert suite.get("errors") == "1"
    assert int(suite.get("tests", "0")) == len(report.requirements) + 1
    error = suite.find("testcase[@name='run']/error")
    assert error is not None and "ConnectError \\u0000" in (error.get("message") or "")


def test_control_characters_do_not_break_the_xml(report: RunReport) -> None:
    odd = RunReport.from_dict(report.to_dict())
    target = next(r for r in odd.requirements if r.status is Outcome.FAIL)
    target.failures[0].message = "bell \x07 nul \x00 esc \x1b lone \ud800 fffe \ufffe"
    suite = _suite(render_junit(odd))  # would raise on an invalid character
    assert suite.find("testcase/failure") is not None
