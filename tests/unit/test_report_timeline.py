"""A race's timeline reaches every report: a code block in report.md, a table in report.html,
text in JUnit, rows in report.json; nothing from a target escapes as markup."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conformance.results import Finding, RunReport
from conformance.timeline import Row
from tests.support.report_samples import INJECTION, race_timeline


def _race(report: RunReport) -> Finding:
    return next(r for r in report.requirements if r.id == "RACE-LINEARIZABLE").failures[0]


def test_the_rows_survive_report_json(report: RunReport, written: dict[str, Path]) -> None:
    data = json.loads(written["json"].read_text())
    race = next(r for r in data["requirements"] if r["id"] == "RACE-LINEARIZABLE")
    rows = [Row.from_dict(row) for row in race["failures"][0]["timeline"]]
    assert rows == race_timeline() == _race(report).timeline
    assert [row.marked for row in rows] == [False, True, False]


def test_markdown_shows_the_timeline_as_a_text_block(written: dict[str, Path]) -> None:
    text = written["markdown"].read_text(encoding="utf-8")
    block = re.search(r"```text\n(.*?)\n```", text, re.S)
    assert block is not None
    lines = block.group(1).splitlines()
    assert "call ms" in lines[0] and len(lines) == 4
    assert lines[2].startswith("! 1") and "cancel -> 200" in lines[2]
    assert "no answer" in lines[3] and "\x1b" not in block.group(1)


def test_html_shows_the_timeline_as_an_escaped_table(written: dict[str, Path]) -> None:
    page = written["html"].read_text(encoding="utf-8")
    table = re.search(r'<table class="timeline">(.*?)</table>', page, re.S)
    assert table is not None
    assert table.group(1).count("<tr") == 4 and table.group(1).count('class="marked"') == 1
    assert INJECTION not in table.group(1) and "&lt;script&gt;" in table.group(1)


def test_junit_carries_the_timeline_in_the_failure(written: dict[str, Path]) -> None:
    text = written["junit"].read_text(encoding="utf-8")
    assert "timeline (operations sent at once):" in text
