"""`uploads-conformance compare`: the matrix across runs, the diff of two, and the command."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.compare import Change, Comparison
from conformance.compare_command import add_compare_arguments, compare_command
from conformance.report import validate
from conformance.results import RunReport

INJECTION = "<script>alert('owned')</script>"

# A requirement's status in a synthetic report: "pass", "fail", "accepted" (a failure the
# baseline accepts), "info", "not_testable".
Statuses = dict[str, str]


def report_dict(statuses: Statuses, *, message: str = "wrong", **top: Any) -> dict[str, Any]:
    """A small report.json, valid against the schema."""
    requirements = []
    for requirement_id, status in statuses.items():
        failed = status in ("fail", "accepted")
        requirements.append({
            "id": requirement_id, "level": "INFO" if requirement_id.startswith("OPEN") else "MUST",
            "title": f"the rule {requirement_id}", "source": "docs",
            "status": "fail" if failed else status, "checks": 2, "passed": 1 if failed else 2,
            "failures": [{"requirement": requirement_id, "outcome": "fail",
                          "message": f"{requirement_id}: {message}", "steps": ["create"],
                          "exchanges": [], "source": "test"}] if failed else [],
            "observations": ["seen"] if status == "info" else [],
            "not_testable_reason": "no test controls" if status == "not_testable" else "",
            "baseline": status == "accepted",
            "untested_cause": "target" if status == "not_testable" else "",
        })
    report = RunReport.from_dict({
        "target": "http://127.0.0.1:9/v1", "target_kind": "external", "adapter": "http",
        "profile": "quick", "seed": 1, "started_at": "2026-05-09T07:35:25Z", "duration_s": 1.0,
        "versions": {"uploads-conformance": "0.1.0", "httpx": "0.28.1"},
        "exit_status": 1 if "fail" in statuses.values() else 0, "verdict": "v", "errors": [],
        "baseline_file": None, "requirements": requirements, **top})
    data = report.to_dict()
    assert validate(data) == [], validate(data)
    return data


def report(statuses: Statuses, **top: Any) -> RunReport:
    return RunReport.from_dict(report_dict(statuses, **top))


def write(folder: Path, statuses: Statuses, *, html: bool = True, **top: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.json"
    path.write_text(json.dumps(report_dict(statuses, **top)), encoding="utf-8")
    if html:
        (folder / "report.html").write_text("<html></html>", encoding="utf-8")
    return path


def run(*argv: str | Path) -> int:
    parser = argparse.ArgumentParser(prog="uploads-conformance compare")
    add_compare_arguments(parser)
    return compare_command(parser.parse_args([str(a) for a in argv]))


# --- the comparison -------------------------------------------------------------------------


def test_rows_are_the_union_in_the_first_runs_catalog_order() -> None:
    comparison = Comparison.build([report({"B": "pass", "A": "pass"}),
                                   report({"A": "pass", "C": "fail", "B": "pass"})])
    assert [row.id for row in comparison.rows] == ["B", "A", "C"]
    extra = comparison.rows[2]
    assert extra.cells[0].status == "absent" and extra.change is Change.NEWLY_FAILING


@pytest.mark.parametrize(("before", "after", "change"), [
    ("pass", "fail", Change.NEWLY_FAILING),
    ("not_testable", "fail", Change.NEWLY_FAILING),
    ("accepted", "fail", Change.NEWLY_FAILING),  # no longer accepted: it counts again
    ("fail", "pass", Change.FIXED),
    ("fail", "fail", Change.STILL_FAILING),
    ("fail", "not_testable", Change.CHANGED),  # untested is not fixed
    ("fail", "accepted", Change.CHANGED),
    ("pass", "not_testable", Change.CHANGED),
    ("not_testable", "info", Change.CHANGED),
    ("pass", "pass", Change.UNCHANGED),
])
def test_each_kind_of_change(before: str, after: str, change: Change) -> None:
    comparison = Comparison.build([report({"X": before}), report({"X": after})])
    assert comparison.rows[0].change is change
    assert comparison.changed(change) == [comparison.rows[0]]


def test_the_count_line_names_what_differs_with_its_statuses() -> None:
    comparison = Comparison.build([report({"A": "pass", "COMPLETE-MD5": "pass", "B": "fail"}),
                                   report({"A": "pass", "COMPLETE-MD5": "fail", "B": "pass"})])
    assert comparison.count_line() == ("2 requirements differ: COMPLETE-MD5 (pass → fail), "
                                       "B (fail → pass)")
    assert comparison.diff_line() == ("run 1 → run 2: 1 newly failing, 1 fixed, "
                                      "0 still failing, 0 changed otherwise")
    same = Comparison.build([report({"A": "pass"}), report({"A": "pass"})])
    assert same.count_line() == "No requirement differs across the 2 runs."


def test_rows_that_differ_come_first_or_alone() -> None:
    comparison = Comparison.build([report({"A": "pass", "B": "pass", "C": "pass"}),
                                   report({"A": "pass", "B": "pass", "C": "fail"}),
                                   report({"A": "pass", "B": "info", "C": "pass"})])
    assert [row.id for row in comparison.ordered()] == ["B", "C", "A"]
    assert [row.id for row in comparison.ordered(only_differences=True)] == ["B", "C"]
    # Differing in a middle run counts, though the diff (first -> last) sees no change for C.
    assert comparison.rows[2].differs and comparison.rows[2].change is Change.UNCHANGED
    assert comparison.rows[2].transition == "pass → fail → pass"


def test_the_base_and_the_head_can_be_chosen() -> None:
    runs = [report({"A": "fail"}), report({"A": "pass"}), report({"A": "fail"})]
    assert Comparison.build(runs).rows[0].change is Change.STILL_FAILING
    assert Comparison.build(runs, base=1).rows[0].change is Change.NEWLY_FAILING
    assert Comparison.build(runs, head=1).rows[0].change is Change.FIXED
    with pytest.raises(ValueError):
        Comparison.build(runs[:1])
    with pytest.raises(ValueError):
        Comparison.build(runs, base=2)


def test_a_column_says_which_run_it_is() -> None:
    sdk = report({"A": "pass"}, adapter="openai-python", target_kind="embedded emulator",
                 target="embedded emulator", started_at="2026-05-09T09:35:25+02:00",
                 versions={"sdk": "openai (Python)", "sdk_version": "1.54.0"})
    column = Comparison.build([report({"A": "pass"}), sdk]).columns[1]
    assert (column.label, column.target, column.adapter, column.started) == (
        "run 2", "embedded emulator", "openai-python (openai (Python) 1.54.0)",
        "2026-05-09 07:35 UTC")
    first = Comparison.build([report({"A": "pass"}), sdk]).columns[0]
    assert first.target == "http://127.0.0.1:9/v1 (external)"
    assert first.adapter == "http (httpx 0.28.1)" and first.verdict == "CONFORMANT"


# --- the command ----------------------------------------------------------------------------


def test_markdown_to_stdout_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    old = write(tmp_path / "old", {"A": "pass", "COMPLETE-MD5": "pass"})
    new = write(tmp_path / "new", {"A": "pass", "COMPLETE-MD5": "fail"})
    assert run(old, new) == 0
    out = capsys.readouterr().out
    assert "**1 requirement differs: COMPLETE-MD5 (pass → fail)**" in out
    assert "- **Newly failing (1)**\n  - COMPLETE-MD5 (MUST): pass → fail: " in out
    assert "[FAIL](new/report.html#req-COMPLETE-MD5)" in out
    assert out.index("≠ COMPLETE-MD5") < out.index("| A |")
    assert not list(tmp_path.glob("compare.*"))


def test_out_writes_markdown_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = write(tmp_path / "runs" / "old", {"A": "pass", "B": "pass"})
    new = write(tmp_path / "runs" / "new", {"A": "pass", "B": "fail"}, html=False)
    assert run(old, new, "--out", tmp_path / "cmp", "--only-differences") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "1 requirement differs: B (pass → fail)"
    assert out[-2:] == [str(tmp_path / "cmp" / name) for name in ("compare.md", "compare.html")]
    html = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    markdown = (tmp_path / "cmp" / "compare.md").read_text(encoding="utf-8")
    # Links are relative to the matrix, to the run's report.html where there is one.
    assert 'href="../runs/old/report.html#req-B"' in html
    assert "new/report.html" not in html and "new/report.html" not in markdown
    assert "<code>A</code>" not in html and "| A |" not in markdown  # --only-differences
    assert "<link" not in html and "src=" not in html and "<style>" in html


def test_everything_from_a_report_is_escaped(tmp_path: Path) -> None:
    old = write(tmp_path / "old", {"A": "pass"}, target_kind=INJECTION)
    new = write(tmp_path / "new", {"A": "fail"}, message=INJECTION,
                versions={"sdk": INJECTION}, profile=INJECTION)
    assert run(old, new, "--out", tmp_path / "cmp") == 0
    html = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    markdown = (tmp_path / "cmp" / "compare.md").read_text(encoding="utf-8")
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<script" not in markdown and "&lt;script&gt;" in markdown


def test_new_failures_exit_1_only_when_asked(tmp_path: Path) -> None:
    old = write(tmp_path / "old", {"A": "pass", "B": "fail"})
    new = write(tmp_path / "new", {"A": "fail", "B": "pass"})
    fixed_only = write(tmp_path / "fixed", {"A": "pass", "B": "pass"})
    out = tmp_path / "cmp"
    assert run(old, new, "--out", out) == 0
    assert run(old, new, "--out", out, "--fail-on-new") == 1
    assert run(old, fixed_only, "--out", out, "--fail-on-new") == 0


def test_base_picks_the_run_the_diff_starts_from(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path / "a", {"A": "fail"})
    b = write(tmp_path / "b", {"A": "pass"})
    c = write(tmp_path / "c", {"A": "fail"})
    assert run(a, b, c, "--base", b, "--out", tmp_path / "cmp") == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("run 2 → run 3: 1 newly failing")
    # A base not among the reports becomes the first column.
    assert run(b, c, "--base", a, "--out", tmp_path / "cmp") == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("run 1 → run 3: 0 newly failing")


@pytest.mark.parametrize("content", [None, "{not json", json.dumps({"schema_version": "1.0"})])
def test_an_unreadable_report_exits_2_with_one_line(tmp_path: Path, content: str | None,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "good", {"A": "pass"})
    bad = tmp_path / "bad" / "report.json"
    if content is not None:
        bad.parent.mkdir()
        bad.write_text(content)
    assert run(good, bad) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("uploads-conformance compare: error: ")
    assert str(bad) in captured.err and captured.err.count("\n") == 1
    assert "Traceback" not in captured.err and captured.out == ""


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_reports_exit_2(tmp_path: Path, count: int,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    paths = [write(tmp_path / "one", {"A": "pass"})][:count]
    assert run(*paths) == 2
    err = capsys.readouterr().err
    assert err == (f"uploads-conformance compare: error: give at least two report.json files "
                   f"to compare ({count} given)\n")


def test_the_command_is_registered() -> None:
    from conformance.cli import build_parser

    args = build_parser().parse_args(["compare", "a.json", "b.json", "--only-differences"])
    assert args.handler is compare_command and args.only_differences
