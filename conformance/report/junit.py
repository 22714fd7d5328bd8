"""junit.xml: one test case per requirement, for CI systems that read JUnit results.

A failed requirement is a <failure> whose text holds the steps, the exchanges and the curl
reproduction; a requirement not testable here, an INFO observation and a failure accepted
by the baseline are <skipped> with the reason; a run that could not be done adds one
<error> case. The classname groups requirements by area: uploads.PART, uploads.COMPLETE.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conformance.report.view import (
    FindingView,
    Limits,
    ReportView,
    RequirementView,
    printable,
    render_within,
)
from conformance.results import Outcome, RunReport

__all__ = ["render_junit"]

MAX_BYTES = 5_000_000


def render_junit(report: RunReport) -> str:
    """The junit.xml text, with as much evidence as fits in a few megabytes."""
    text, _ = render_within(lambda limits: _render(report, limits), MAX_BYTES)
    return text


def _render(report: RunReport, limits: Limits) -> str:
    view = ReportView.build(report, limits)
    root = ET.Element("testsuites", name="uploads-conformance")
    suite = ET.SubElement(root, "testsuite", name="uploads-conformance",
                          timestamp=printable(report.started_at),
                          hostname=printable(report.target))
    properties = ET.SubElement(suite, "properties")
    facts = {"target": report.target, "target_kind": report.target_kind,
             "adapter": report.adapter, "profile": report.profile, "seed": str(report.seed),
             "schema_version": report.schema_version, "verdict": report.verdict,
             "exit_status": str(report.exit_status)}
    facts |= {f"version.{k}": v for k, v in sorted(report.versions.items())}
    for name, value in facts.items():
        ET.SubElement(properties, "property", name=name, value=printable(value))

    failures = skipped = errors = 0
    for requirement in view.requirements:
        case = ET.SubElement(suite, "testcase", classname=f"uploads.{requirement.area}",
                             name=requirement.id, time="0")
        result = requirement.result
        if result.status is Outcome.FAIL and not result.baseline:
            failures += 1
            element = ET.SubElement(case, "failure", type=requirement.level,
                                    message=_message(requirement))
            element.text = _failure_text(requirement)
        elif result.status is Outcome.FAIL:
            skipped += 1
            ET.SubElement(case, "skipped", message=printable(
                "accepted deviation (baseline): " + requirement.first_message))
            _system_out(case, _failure_text(requirement))
        elif result.status is Outcome.NOT_TESTABLE:
            skipped += 1
            ET.SubElement(case, "skipped", message="not testable here: "
                          + (requirement.not_testable_reason or "no reason given"))
        elif result.status is Outcome.INFO:
            skipped += 1
            ET.SubElement(case, "skipped", message="observed: "
                          + (requirement.first_message or "nothing recorded"))
            _system_out(case, "\n".join(requirement.observations))
        else:
            _system_out(case, f"{requirement.checks} checks, {requirement.passed} passed\n"
                              f"{requirement.level}: {requirement.title}")
    if view.errors:
        errors = 1
        case = ET.SubElement(suite, "testcase", classname="uploads.RUN", name="run", time="0")
        element = ET.SubElement(case, "error", type="run-error", message=view.errors[0][:500])
        element.text = "\n".join(view.errors)

    tests = len(view.requirements) + errors
    counts = {"tests": str(tests), "failures": str(failures), "errors": str(errors),
              "skipped": str(skipped), "time": f"{report.duration_s:.3f}"}
    suite.attrib.update(counts)
    root.attrib.update(counts)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _message(requirement: RequirementView) -> str:
    return f"[{requirement.level}] {requirement.first_message or requirement.title}"


def _system_out(case: ET.Element, text: str) -> None:
    if text:
        ET.SubElement(case, "system-out").text = text


def _failure_text(requirement: RequirementView) -> str:
    lines = [f"{requirement.id} ({requirement.level}): {requirement.title}",
             f"source: {requirement.source}",
             f"checks: {requirement.checks}, passed: {requirement.passed}"]
    for number, finding in enumerate(requirement.failures, 1):
        lines += ["", f"--- finding {number}: {finding.message}"]
        lines += _finding_lines(finding)
    if requirement.failures_omitted:
        lines.append(f"\n({requirement.failures_omitted} more findings in report.json)")
    return printable("\n".join(lines))


def _finding_lines(finding: FindingView) -> list[str]:
    lines: list[str] = []
    if finding.source:
        lines.append(f"found by: {finding.source}")
    if finding.replay:
        lines.append(f"replayed: {finding.replay}")
    if finding.steps:
        lines.append("steps:")
        lines += [f"  {i}. {step}" for i, step in enumerate(finding.steps, 1)]
        if finding.steps_omitted:
            lines.append(f"  ... {finding.steps_omitted} more steps")
    if finding.timeline_text:
        lines += ["timeline (operations sent at once):", finding.timeline_text]
    for number, exchange in enumerate(finding.exchanges, 1):
        lines += ["", f"exchange {number}: {exchange.title}", ">>> request", exchange.request,
                  "<<< answer", exchange.response, "reproduce:", exchange.curl]
    if finding.exchanges_omitted:
        lines.append(f"({finding.exchanges_omitted} earlier exchanges in report.json)")
    return lines
