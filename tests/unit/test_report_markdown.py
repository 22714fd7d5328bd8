"""report.md: a job summary that nothing from a target can break, and under 1 MB."""

from __future__ import annotations

import re
from pathlib import Path

from conformance.report import render_markdown
from conformance.report.markdown import md_code, md_fence, md_text
from conformance.results import RunReport
from tests.support.report_samples import INJECTION, sample_report


def test_the_summary_has_verdict_table_and_failures(report: RunReport,
                                                    written: dict[str, Path]) -> None:
    text = written["markdown"].read_text(encoding="utf-8")
    assert "**Result: NOT CONFORMANT** (exit 1)" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "| MUST |" in line]
    assert len(rows) == sum(r.level == "MUST" for r in report.requirements)
    assert "| PART-SIZE-LIMIT | MUST | **FAIL** | 3/21 |" in text
    assert "| CANCEL-STATE | MUST | FAIL (accepted) |" in text
    assert "### PART-SIZE-LIMIT (MUST): FAIL" in text
    assert "1. `step 0: add_part(upload_1, size=0)" in text
    prose = _strip_code(text)  # a target's "</details>" inside a fence is only text
    assert prose.count("<details>") == prose.count("</details>") > 0
    assert "```sh\ncurl -sS -X POST" in text
    assert "## Observations" in text and "## Not testable here" in text
    assert "EXPIRY-ENFORCED**: the target offers no test controls" in text


def test_nothing_from_a_target_escapes_as_html(written: dict[str, Path]) -> None:
    text = written["markdown"].read_text(encoding="utf-8")
    outside_code = _strip_code(text)
    assert INJECTION not in outside_code and "<img" not in outside_code
    assert "&lt;script&gt;" in outside_code
    # Tags outside code: only our own <details> and <summary>.
    assert set(re.findall(r"</?([a-zA-Z]+)", outside_code)) <= {"details", "summary"}


def _strip_code(text: str) -> str:
    """The Markdown without fenced blocks and code spans (whose contents are literal)."""
    out, fence = [], None
    for line in text.splitlines():
        match = re.match(r"^(`{3,})", line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and line.strip() == fence:
            fence = None
        elif fence is None:
            out.append(re.sub(r"(`+).*?\1", "", line))
    assert fence is None, "a fence was left open"
    return "\n".join(out)


def test_escaping_helpers() -> None:
    assert md_text("a|b *c* <x> [l](u) \n d") == r"a\|b \*c\* &lt;x&gt; \[l\](u) d"
    assert md_code("x ` y") == "``x ` y``"
    assert md_code("`edge`") == "`` `edge` ``"
    block = md_fence("before\n```\nafter\n`````", "http")
    assert block.startswith("``````http\n") and block.endswith("\n``````")


def test_a_huge_report_stays_under_one_megabyte() -> None:
    big = sample_report(big=True)
    for requirement in big.requirements:  # make every requirement fail with lots of evidence
        if requirement.failures:
            requirement.failures[0].message = "m" * 100_000
    donor = next(r for r in big.requirements if r.failures)
    for requirement in big.requirements:
        requirement.failures = donor.failures
        requirement.observations = ["o" * 5000] * 200
    text = render_markdown(big)
    assert len(text.encode()) <= 1_000_000
    assert "**Result: NOT CONFORMANT**" in text
    assert "more in report.json" in text or "was cut here" in text


def test_a_run_that_could_not_be_done() -> None:
    report = sample_report()
    report.exit_status, report.errors = 2, ["target unreachable | <b>ConnectError</b>"]
    text = render_markdown(report)
    assert "**Result: RUN FAILED** (exit 2)" in text
    assert "- target unreachable \\| &lt;b&gt;ConnectError&lt;/b&gt;" in text


def test_what_the_run_left_on_the_target_is_said(report: RunReport) -> None:
    from conformance.report.console import render_summary

    report.cleanup = {"uploads_created": 7, "bytes_declared": 70, "parts_added": 9,
                      "ended_by_the_run": 5, "ended_at_end": 1,
                      "left_pending": ["upload_left_1"]}
    said = "created 7 upload(s) on the target (9 part(s)), and left 1 pending: upload\\_left\\_1"
    assert said in render_markdown(report)
    assert "uploads-conformance cleanup" in render_summary(report).replace("\n  ", " ")
    report.cleanup["left_pending"] = []
    assert "and left none pending" in render_markdown(report)
    report.cleanup = None
    assert "On the target" not in render_markdown(report)
