"""Fixtures for the report writers' tests: a hostile sample report and its written files."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.report import write_reports
from conformance.results import RunReport
from tests.support.report_samples import sample_report


@pytest.fixture(scope="module")
def report() -> RunReport:
    return sample_report()


@pytest.fixture(scope="module")
def written(report: RunReport, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_reports(report, tmp_path_factory.mktemp("reports"))
