"""report.html: self-contained, colour-coded, and every byte from a target escaped; its
figure, anchors and filters' markup checked without a browser (tests/end_to_end has one)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

from conformance.report.html import render_html, summary_bar
from conformance.report.view import ReportView, area
from conformance.results import Outcome, RunReport
from tests.support.report_samples import INJECTION, KEY, sample_report


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if tag not in {"meta", "br", "input", "img", "link"}:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text.append(data)


def test_no_markup_from_a_target_survives(written: dict[str, Path]) -> None:
    text = written["html"].read_text(encoding="utf-8")
    assert INJECTION not in text
    assert "&lt;script&gt;alert(" in text
    parser = _Tags()
    parser.feed(text)
    parser.close()
    assert parser.open == []  # well nested: nothing injected opened or closed an element
    names = [tag for tag, _ in parser.tags]
    assert names.count("script") == 1  # ours, the filter
    assert "img" not in names
    assert "alert" not in "".join(parser.script_text)
    assert not any(k.startswith("on") for _, attrs in parser.tags for k in attrs)


def test_the_page_is_self_contained(written: dict[str, Path]) -> None:
    text = written["html"].read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    assert "<link" not in text and "@import" not in text
    assert "<style>" in text


def test_statuses_are_colour_coded(report: RunReport, written: dict[str, Path]) -> None:
    text = written["html"].read_text(encoding="utf-8")
    for css in ("pass", "fail", "accepted", "info", "not-testable"):
        assert f'<span class="badge {css}">' in text
        assert f".{css} {{" in text
    assert text.count('<article class="req" ') == len(report.requirements)
    assert 'id="req-PART-SIZE-LIMIT"' in text and 'href="#req-PART-SIZE-LIMIT"' in text
    assert "Result: NOT CONFORMANT" in text
    assert "curl -sS -X POST" in text


def _attrs(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def test_the_summary_figure_counts_match_the_report(report: RunReport,
                                                    written: dict[str, Path]) -> None:
    text = written["html"].read_text(encoding="utf-8")
    figure = re.search(r'<svg id="summary-figure".*?</svg>', text, re.S)
    assert figure is not None
    drawn = {attrs["class"]: int(attrs["data-count"] or "")
             for tag, attrs in _attrs(figure.group()) if tag == "rect" and "data-count" in attrs}
    s = report.summary()
    assert drawn == {"pass": s["pass"], "fail": s["fail"] - s["baseline_accepted"],
                     "accepted": s["baseline_accepted"], "info": s["info"],
                     "not-testable": s["not_testable"]}
    for css, count in drawn.items():  # the legend beside it says the same
        assert f'<span class="swatch {css}"></span><b>{count}</b>' in text


def test_the_summary_bar_fills_its_box_and_shows_a_lone_failure() -> None:
    report = sample_report()
    for result in report.requirements:
        result.status, result.baseline = Outcome.PASS, False
    report.requirements = [dataclasses.replace(r) for r in report.requirements * 20]
    report.requirements[0].status = Outcome.FAIL  # one failure among a thousand passes
    segments = summary_bar(ReportView.build(report).requirements)
    assert [(s.css, s.count) for s in segments] == [("fail", 1),
                                                    ("pass", len(report.requirements) - 1)]
    assert abs(sum(s.width for s in segments) - 1000) < 0.1
    assert segments[0].width >= 7 and segments[1].x == segments[0].width
    assert summary_bar([]) == []


def test_every_requirement_has_its_anchor_in_its_area(report: RunReport,
                                                      written: dict[str, Path]) -> None:
    text = written["html"].read_text(encoding="utf-8")
    sections = re.findall(r'<section class="area" id="area-([A-Z]+)">(.*?)</section>', text, re.S)
    placed = {rid: name for name, body in sections
              for rid in re.findall(r'<article class="req" id="req-([A-Z0-9-]+)"', body)}
    assert placed == {r.id: area(r.id) for r in report.requirements}
    assert len({name for name, _ in sections}) == len(sections)  # one section per area
    rows = [attrs for tag, attrs in _attrs(text) if tag == "article"]
    assert {(a["data-status"], a["data-level"]) for a in rows} >= {("fail", "MUST"),
                                                                     ("not-testable", "MUST")}


def test_each_row_shows_its_coverage_and_why_it_was_not_tested(report: RunReport,
                                                               written: dict[str, Path]) -> None:
    text = written["html"].read_text(encoding="utf-8")
    row = re.search(r'<article class="req" id="req-PART-SIZE-LIMIT".*?</article>', text, re.S)
    result = next(r for r in report.requirements if r.id == "PART-SIZE-LIMIT")
    assert row is not None and f"3 of {result.checks} checks passed" in row.group()
    assert "<details class=\"finding\">" in row.group() and "curl -sS" in row.group()
    untested = next(r for r in report.requirements if r.status is Outcome.NOT_TESTABLE)
    row = re.search(rf'<article class="req" id="req-{untested.id}".*?</article>', text, re.S)
    assert row is not None
    assert "Not testable: the target offers no test controls" in row.group()


def test_nothing_is_fetched_and_only_our_own_code_may_run(written: dict[str, Path]) -> None:
    text = written["html"].read_text(encoding="utf-8")
    for _, attrs in _attrs(text):
        for name in ("src", "href", "action", "xlink:href", "srcset", "poster", "data"):
            assert attrs.get(name) is None or str(attrs[name]).startswith("#"), attrs
    style = re.search(r"<style>(.*?)</style>", text, re.S)
    script = re.search(r"<script>(.*?)</script>", text, re.S)
    assert style is not None and script is not None
    assert "url(" not in style.group(1) and "@import" not in style.group(1)
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert forbidden not in script.group(1)
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)
    assert policy is not None and "default-src 'none'" in policy.group(1)
    for block in (style.group(1), script.group(1)):  # pinned by hash: nothing else may run
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy.group(1)
    assert "unsafe-inline" not in policy.group(1)


def test_without_the_script_every_requirement_is_shown(written: dict[str, Path]) -> None:
    text = written["html"].read_text(encoding="utf-8")
    hidden = [(tag, attrs) for tag, attrs in _attrs(text) if "hidden" in attrs]
    # only the filter bar (useless without the script) and the "nothing matches" note
    assert sorted(attrs.get("id") or "" for _, attrs in hidden) == ["filters", "no-match"]


def test_a_huge_report_keeps_to_its_budget_and_its_anchors() -> None:
    big = sample_report(big=True)
    donor = next(r for r in big.requirements if r.failures)
    for requirement in big.requirements:
        requirement.failures = donor.failures
        requirement.observations = ["o" * 5000] * 200
    generous = render_html(big, max_bytes=100_000_000)
    text = render_html(big, max_bytes=2_000_000)
    assert len(generous.encode()) > 2_000_000 >= len(text.encode())
    assert text.count('<article class="req" ') == len(big.requirements)
    assert "more findings in report.json" in text and KEY not in text
    assert INJECTION not in text


def test_what_the_run_left_on_the_target_is_said(report: RunReport) -> None:
    report.cleanup = {"uploads_created": 7, "bytes_declared": 70, "parts_added": 9,
                      "ended_by_the_run": 5, "ended_at_end": 1, "left_pending": ["upload_<b>"]}
    page = render_html(report)
    assert "<dt>On the target</dt>" in page and "left 1 pending: upload_&lt;b&gt;" in page
