"""Fixtures for the unit tests: a hostile sample report and its written files; independent
readings of the request rules, to judge what the strategies generate."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.report import write_reports
from conformance.results import RunReport
from tests.support.report_samples import sample_report
from tests.support.request_rules import Validator, complete_errors, create_errors


@pytest.fixture(scope="module")
def report() -> RunReport:
    return sample_report()


@pytest.fixture(scope="module")
def written(report: RunReport, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_reports(report, tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="session")
def create_rules() -> Validator:
    return create_errors


@pytest.fixture(scope="session")
def complete_rules() -> Validator:
    return complete_errors
