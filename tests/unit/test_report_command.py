"""`uploads-conformance report report.json [--out DIR]` and the console summary."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from conformance.report import (
    ReportError,
    add_report_arguments,
    load_report,
    report_command,
    write_reports,
)
from conformance.report.console import render_summary
from conformance.results import RunReport
from tests.support.report_samples import sample_report


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="uploads-conformance report")
    add_report_arguments(parser)
    return report_command(parser.parse_args(list(argv)))


def test_renders_again_beside_the_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    written = write_reports(sample_report(), tmp_path, formats=["json"])
    assert _run(str(written["json"])) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"report.json", "junit.xml", "report.md",
                                                   "report.html", "exchanges.har"}
    assert len(capsys.readouterr().out.splitlines()) == 4


def test_renders_into_another_folder(tmp_path: Path) -> None:
    written = write_reports(sample_report(), tmp_path / "run", formats=["json"])
    assert _run(str(written["json"]), "--out", str(tmp_path / "again")) == 0
    assert (tmp_path / "again" / "report.html").is_file()
    assert not (tmp_path / "again" / "report.json").exists()


@pytest.mark.parametrize(("content", "says"), [
    (None, "no such file"),
    ("{not json", "not JSON"),
    ("[1, 2]", "not a report.json"),
    (json.dumps({"schema_version": "2.0"}), "schema 2.0 is not supported"),
    (json.dumps({"schema_version": "1.0", "target": "x"}), "not a valid report.json"),
])
def test_a_bad_file_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          content: str | None, says: str) -> None:
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content)
    assert _run(str(path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("uploads-conformance report: error: ")
    assert says in err and err.count("\n") == 1 and "Traceback" not in err
    with pytest.raises(ReportError):
        load_report(path)


def test_a_newer_minor_version_is_read(tmp_path: Path) -> None:
    data = sample_report().to_dict()
    data["schema_version"] = "1.7"
    data["a_field_from_the_future"] = True
    path = tmp_path / "report.json"
    path.write_text(json.dumps(data))
    assert load_report(path).schema_version == "1.7"


def test_the_console_summary(report: RunReport) -> None:
    paths = {"json": Path("reports/report.json"), "html": Path("reports/report.html")}
    text = render_summary(report, paths)
    lines = text.splitlines()
    assert lines[0] == "uploads-conformance: NOT CONFORMANT (exit 1)"
    counts = report.summary()
    assert (f"{len(report.requirements)} requirements: {counts['pass']} pass, 4 fail "
            "(3 MUST, 1 SHOULD), 1 accepted by the baseline") in text
    failed = [line for line in lines if line.lstrip().startswith("FAIL")]
    assert [line.split()[1] for line in failed[:2]] == ["PART-SIZE-LIMIT", "COMPLETE-ORDER"]
    assert "FAIL (accepted) CANCEL-STATE" in text
    assert lines[-1] == "  reports: reports/report.json, reports/report.html"
    assert all(len(line) < 260 for line in lines)
