"""report.json: a faithful round trip, valid against the published JSON Schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from conformance.report import load_report, validate
from conformance.report.json_report import SCHEMA_PATH, dump_json
from conformance.results import Outcome, RequirementResult, RunReport
from tests.support.report_samples import sample_report


def test_to_dict_from_dict_round_trip(report: RunReport) -> None:
    again = RunReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report
    assert again.to_dict() == report.to_dict()


def test_the_written_file_loads_back_equal(report: RunReport, written: dict[str, Path]) -> None:
    assert load_report(written["json"]) == report


def test_the_report_validates_against_the_schema(report: RunReport) -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema_rs.meta.validate(schema)  # the schema itself is a valid JSON Schema
    validator = jsonschema_rs.validator_for(schema)
    data = json.loads(dump_json(report))
    errors = [e.message for e in validator.iter_errors(data)]
    assert errors == []
    assert validate(data) == []


def test_a_big_report_validates_too() -> None:
    assert validate(json.loads(dump_json(sample_report(big=True)))) == []


def test_a_run_that_could_not_be_done_validates() -> None:
    report = RunReport(target="http://127.0.0.1:1/v1", target_kind="external", profile="quick",
                       seed=0, started_at="2026-01-01T00:00:00Z", duration_s=0.1, versions={},
                       requirements=[], exit_status=2, verdict="target unreachable",
                       errors=["target http://127.0.0.1:1/v1 is unreachable: ConnectError"])
    assert validate(report.to_dict()) == []
    assert RunReport.from_dict(report.to_dict()) == report


def _broken(data: dict[str, Any], edit: str) -> dict[str, Any]:
    data = copy.deepcopy(data)
    requirement = data["requirements"][0]
    exchange = next(f["exchanges"][0] for r in data["requirements"] for f in r["failures"])
    if edit == "missing-field":
        del data["verdict"]
    elif edit == "bad-status":
        requirement["status"] = "passed"
    elif edit == "bad-exit":
        data["exit_status"] = 3
    elif edit == "unknown-field":
        requirement["colour"] = "green"
    elif edit == "exchange-status":
        exchange["status"] = "200"
    return data


@pytest.mark.parametrize("edit", ["missing-field", "bad-status", "bad-exit", "unknown-field",
                                  "exchange-status"])
def test_the_schema_rejects_broken_reports(report: RunReport, edit: str) -> None:
    assert validate(_broken(report.to_dict(), edit)) != []


def test_every_field_of_the_dataclasses_is_in_the_schema(report: RunReport) -> None:
    """to_dict and the schema cannot drift apart: the schema forbids unknown fields."""
    schema = json.loads(SCHEMA_PATH.read_text())
    data = report.to_dict()
    assert set(schema["required"]) == set(data)
    requirement = data["requirements"][0]
    assert set(schema["$defs"]["requirement"]["required"]) == set(requirement)
    finding = next(f for r in data["requirements"] for f in r["failures"])
    assert set(schema["$defs"]["finding"]["required"]) == set(finding)
    assert set(schema["$defs"]["exchange"]["required"]) == set(finding["exchanges"][0])
    assert set(schema["$defs"]["summary"]["required"]) == set(data["summary"])


def test_odd_characters_survive_the_round_trip(tmp_path: Path) -> None:
    report = sample_report()
    report.requirements[0] = RequirementResult("X-1", "MUST", "t", "s", Outcome.INFO,
                                               observations=["nul \x00 é 日本 \ud800 lone"])
    path = tmp_path / "report.json"
    path.write_text(dump_json(report), encoding="utf-8")
    assert load_report(path).requirements[0].observations == report.requirements[0].observations
