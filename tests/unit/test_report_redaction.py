"""No report file carries the API key, whether it came through the client or a message."""

from __future__ import annotations

from pathlib import Path

from conformance.report import write_reports
from conformance.report.console import render_summary
from tests.support.report_samples import KEY, sample_report


def test_the_key_planted_in_answers_reaches_no_file(written: dict[str, Path]) -> None:
    assert set(written) == {"json", "junit", "markdown", "html", "har"}
    for path in written.values():
        text = path.read_text(encoding="utf-8")
        assert KEY not in text, path.name
        assert "[REDACTED]" in text, path.name


def test_a_key_quoted_raw_in_a_message_is_scrubbed_when_named(tmp_path: Path) -> None:
    report = sample_report()
    finding = next(f for r in report.requirements for f in r.failures)
    finding.message = f"the target said: Incorrect API key provided: {KEY}"
    report.verdict = f"odd {KEY}"
    written = write_reports(report, tmp_path, redact=[KEY, None])
    for path in written.values():
        assert KEY not in path.read_text(encoding="utf-8"), path.name


def test_the_console_summary_carries_no_key() -> None:
    assert KEY not in render_summary(sample_report())


def test_the_second_key_and_the_near_miss_quoted_in_a_message_reach_no_file(
        tmp_path: Path) -> None:
    from conformance.credentials import near_miss
    from conformance.run import RunSettings, publish

    second = "sk-proj-SECRET-the-second-tenant-7e6d5c"
    report = sample_report()
    finding = next(f for r in report.requirements for f in r.failures)
    finding.message = f"tenant {second} saw it, and {near_miss(KEY)} was let in"
    published = publish(report, RunSettings(api_key=KEY, second_api_key=second,
                                            report_dir=tmp_path))
    files = [p for p in tmp_path.iterdir() if p.is_file()]
    assert len(files) >= 4
    for text in [render_summary(published), *(p.read_text(encoding="utf-8") for p in files)]:
        assert second not in text and near_miss(KEY) not in text
