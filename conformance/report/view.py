"""The report as the renderings see it: labels, grouping, and evidence cut to a budget.

Every rendering (junit.xml, report.md, report.html, the console) shows the same things in
the same words; this module decides them once. Evidence comes from targets and may be huge
or hostile, so it is cut here (escaping is each rendering's job).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from conformance.results import Exchange, Finding, Outcome, RequirementResult, RunReport
from conformance.timeline import Row, render_text

__all__ = [
    "EVIDENCE_BUDGETS",
    "ExchangeView",
    "FindingView",
    "Limits",
    "ReportView",
    "RequirementView",
    "area",
    "clip",
    "status_label",
    "verdict_status",
]


@dataclass(frozen=True, slots=True)
class Limits:
    """How much evidence a rendering shows; smaller budgets are tried when a file is too big."""

    findings: int = 3  # per requirement
    exchanges: int = 8  # per finding, the last ones (those closest to the failure)
    steps: int = 80  # per finding, the first ones
    body_chars: int = 2000  # per request or answer body
    text_chars: int = 2000  # per message, curl line, observation
    observations: int = 25  # per requirement


# From generous to terse: a rendering uses the first budget whose output fits its size limit.
EVIDENCE_BUDGETS: tuple[Limits, ...] = (
    Limits(),
    Limits(findings=2, exchanges=4, steps=40, body_chars=800, text_chars=1000, observations=15),
    Limits(findings=1, exchanges=2, steps=20, body_chars=200, text_chars=400, observations=8),
    Limits(findings=1, exchanges=0, steps=10, body_chars=0, text_chars=200, observations=3),
)



def render_within(render: Callable[[Limits], str], max_bytes: int) -> tuple[str, bool]:
    """The first rendering, from the most generous budget down, that fits in `max_bytes`:
    (text, True); when even the tersest does not fit, (that text, False)."""
    text = ""
    for limits in EVIDENCE_BUDGETS:
        text = render(limits)
        if len(text.encode()) <= max_bytes:
            return text, True
    return text, False


_AREA_NAMES = {"NO": "ROBUSTNESS", "IDS": "OBJECT"}
_STATUS_CLASS = {
    Outcome.PASS: "pass",
    Outcome.FAIL: "fail",
    Outcome.INFO: "info",
    Outcome.NOT_TESTABLE: "not-testable",
}


def area(requirement_id: str) -> str:
    """The area of a requirement, from its ID: PART-VALID -> PART."""
    head = requirement_id.split("-", 1)[0]
    return _AREA_NAMES.get(head, head)


def status_label(result: RequirementResult) -> str:
    if result.status is Outcome.FAIL and result.baseline:
        return "FAIL (accepted)"
    return {Outcome.PASS: "PASS", Outcome.FAIL: "FAIL", Outcome.INFO: "INFO",
            Outcome.NOT_TESTABLE: "NOT TESTABLE"}[result.status]


def verdict_status(report: RunReport) -> str:
    """One word or two for the whole run, from its exit status."""
    if report.exit_status == 2 and not report.errors and report.incomplete_musts():
        return "INCOMPLETE"  # it ran, but left a MUST untested: no verdict either way
    if report.selection and not report.errors:  # a partial run is no verdict on the whole
        return {0: "SELECTED PASS", 1: "NOT CONFORMANT"}.get(report.exit_status,
                                                             "NOTHING TESTED")
    return {0: "CONFORMANT", 1: "NOT CONFORMANT"}.get(report.exit_status, "RUN FAILED")


# Characters that XML 1.0 cannot carry, or that UTF-8 cannot encode (lone surrogates).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clip(text: str, limit: int) -> str:
    """The text cut to `limit` characters, with a marker saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[cut: {len(text) - limit} more characters]"


def printable(text: str) -> str:
    """Control characters (which no report format carries well) shown as escapes."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@dataclass(slots=True)
class ExchangeView:
    title: str  # "POST /v1/uploads -> 400 (12 ms)"
    request: str  # request line, headers, body
    response: str  # status line, headers, body, or why there is none
    curl: str


@dataclass(slots=True)
class FindingView:
    message: str
    source: str
    steps: list[str]
    steps_omitted: int
    exchanges: list[ExchangeView]
    exchanges_omitted: int
    timeline: list[Row]  # a race's operations, each cell printable and clipped
    timeline_text: str  # the same rows, aligned for a code block
    replay: str = ""  # "deterministic (3 of 3)", "flaky (1 of 3)", ...; "" when not replayed


@dataclass(slots=True)
class RequirementView:
    id: str
    level: str
    title: str
    source: str
    area: str
    status: str  # the label: PASS, FAIL, FAIL (accepted), INFO, NOT TESTABLE
    css: str  # pass, fail, accepted, info, not-testable
    checks: int
    passed: int
    first_message: str
    failures: list[FindingView]
    failures_omitted: int
    observations: list[str]
    observations_omitted: int
    not_testable_reason: str
    result: RequirementResult = field(repr=False)


@dataclass(slots=True)
class ReportView:
    report: RunReport
    limits: Limits
    verdict_status: str
    counts: str  # "45 requirements: 30 pass, 2 fail (1 MUST, 1 SHOULD), ..."
    cleanup: str  # what the run made on the target and left there ("": nothing)
    versions: str
    requirements: list[RequirementView]
    failed: list[RequirementView]  # FAIL, not accepted: MUST first
    accepted: list[RequirementView]  # FAIL accepted by the baseline
    observed: list[RequirementView]  # with INFO observations
    not_testable: list[RequirementView]
    errors: list[str]

    @classmethod
    def build(cls, report: RunReport, limits: Limits = EVIDENCE_BUDGETS[0]) -> ReportView:
        views = [_requirement(r, limits) for r in report.requirements]
        failed = [v for v in views if v.result.status is Outcome.FAIL and not v.result.baseline]
        failed.sort(key=lambda v: v.level != "MUST")
        return cls(
            report=report,
            limits=limits,
            verdict_status=verdict_status(report),
            counts=counts_line(report),
            cleanup=cleanup_line(report),
            versions=", ".join(f"{k} {v}" for k, v in sorted(report.versions.items())),
            requirements=views,
            failed=failed,
            accepted=[v for v in views if v.result.status is Outcome.FAIL and v.result.baseline],
            observed=[v for v in views if v.observations],
            not_testable=[v for v in views if v.result.status is Outcome.NOT_TESTABLE],
            errors=[printable(clip(e, limits.text_chars)) for e in report.errors],
        )


def counts_line(report: RunReport) -> str:
    s = report.summary()
    parts = [f"{s['pass']} pass"]
    fail = f"{s['fail'] - s['baseline_accepted']} fail"
    if s["must_failed"] or s["should_failed"]:
        fail += f" ({s['must_failed']} MUST, {s['should_failed']} SHOULD)"
    parts.append(fail)
    if s["baseline_accepted"]:
        parts.append(f"{s['baseline_accepted']} accepted by the baseline")
    left_out = sum(r.untested_cause == "left out" for r in report.requirements)
    parts += [f"{s['info']} info", f"{s['not_testable'] - left_out} not testable"]
    if left_out:
        parts.append(f"{left_out} left out by the selection")
    return f"{len(report.requirements)} requirements: " + ", ".join(parts)


def _requirement(result: RequirementResult, limits: Limits) -> RequirementView:
    css = "accepted" if result.status is Outcome.FAIL and result.baseline \
        else _STATUS_CLASS[result.status]
    failures = result.failures[: limits.findings]
    observations = [printable(clip(o, limits.text_chars))
                    for o in result.observations[: limits.observations]]
    if result.failures:
        first = result.failures[0].message
    elif result.status is Outcome.NOT_TESTABLE:
        first = result.not_testable_reason
    elif result.observations:
        first = "; ".join(result.observations)
    else:
        first = ""
    return RequirementView(
        id=result.id, level=result.level, title=result.title, source=result.source,
        area=area(result.id), status=status_label(result), css=css,
        checks=result.checks, passed=result.passed,
        first_message=printable(clip(first, min(300, limits.text_chars))),
        failures=[_finding(f, limits) for f in failures],
        failures_omitted=len(result.failures) - len(failures),
        observations=observations,
        observations_omitted=len(result.observations) - len(observations),
        not_testable_reason=printable(clip(result.not_testable_reason, limits.text_chars)),
        result=result,
    )


def _finding(finding: Finding, limits: Limits) -> FindingView:
    steps = finding.steps[: limits.steps]
    timeline = [dataclasses.replace(row, text=printable(clip(row.text, 300)),
                                    bar=printable(row.bar))
                for row in finding.timeline[: limits.steps]]
    exchanges = finding.exchanges[-limits.exchanges:] if limits.exchanges else []
    return FindingView(
        message=printable(clip(finding.message, limits.text_chars)),
        source=printable(clip(finding.source, 300)),
        steps=[printable(clip(s, 500)) for s in steps],
        steps_omitted=len(finding.steps) - len(steps),
        exchanges=[_exchange(e, limits) for e in exchanges],
        exchanges_omitted=len(finding.exchanges) - len(exchanges),
        timeline=timeline,
        timeline_text=render_text(timeline) if timeline else "",
        replay=finding.replay.label if finding.replay is not None else "",
    )


def _exchange(exchange: Exchange, limits: Limits) -> ExchangeView:
    path = urlsplit(exchange.url).path or exchange.url
    outcome = str(exchange.status) if exchange.status is not None else "no answer"
    title = f"{exchange.method} {path} -> {outcome} ({exchange.duration_s * 1000:.0f} ms)"
    request = [f"{exchange.method} {exchange.url}"]
    request += [f"{k}: {v}" for k, v in exchange.request_headers.items()]
    if exchange.request_body:
        request += ["", clip(exchange.request_body, limits.body_chars)]
    if exchange.status is None:
        response = [f"no answer: {exchange.error or 'unknown error'}"]
    else:
        response = [f"HTTP {exchange.status}"]
        response += [f"{k}: {v}" for k, v in exchange.response_headers.items()]
        if exchange.response_body:
            response += ["", clip(exchange.response_body, limits.body_chars)]
        if exchange.error:
            response += ["", f"[client: {exchange.error}]"]
    return ExchangeView(
        title=printable(clip(title, 300)),
        request=printable("\n".join(request)),
        response=printable("\n".join(response)),
        curl=printable(clip(exchange.curl, max(limits.text_chars, 4 * limits.body_chars))),
    )


def cleanup_line(report: RunReport) -> str:
    """What the run made on its target and what it left there, in a sentence ("" when the
    run made nothing: it could not start)."""
    cleanup = report.cleanup
    if not cleanup:
        return ""
    made = (f"the run created {cleanup['uploads_created']} upload(s) on the target "
            f"({cleanup['parts_added']} part(s))")
    left = cleanup["left_pending"]
    if not left:
        return f"{made}, and left none pending"
    shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
    return (f"{made}, and left {len(left)} pending: {shown} (`uploads-conformance cleanup "
            "report.json` cancels them; they expire an hour after their creation anyway)")
