"""`uploads-conformance requirements`: the catalog as a Markdown table and as JSON."""

from __future__ import annotations

import argparse
import json

import pytest

from conformance.catalog_command import requirements_command
from conformance.cli import main
from conformance.emulator.mutants import CAUGHT_BY
from conformance.requirements import CATALOG, NEEDS

FIELDS = {"id", "level", "area", "title", "source", "needs", "mutants"}


def _printed(capsys: pytest.CaptureFixture[str], format: str, level: str | None = None) -> str:
    assert requirements_command(argparse.Namespace(format=format, level=level)) == 0
    return capsys.readouterr().out


def test_every_requirement_is_a_row_of_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [line for line in _printed(capsys, "markdown").splitlines()
            if line.startswith("| ") and not line.startswith("| ID ")]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows] == list(CATALOG)
    assert all(row.count(" | ") == len(FIELDS) - 1 for row in rows)


def test_the_json_is_the_catalog_with_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    entries = json.loads(_printed(capsys, "json"))
    assert [e["id"] for e in entries] == list(CATALOG)
    for entry in entries:
        assert set(entry) == FIELDS
        requirement = CATALOG[entry["id"]]
        assert entry["level"] == requirement.level.value and entry["area"]
        assert entry["title"] == requirement.title and entry["source"] == requirement.source
        assert entry["needs"] == list(requirement.needs)
        assert set(entry["needs"]) <= set(NEEDS)


def test_the_mutants_are_those_that_name_the_requirement(
        capsys: pytest.CaptureFixture[str]) -> None:
    entries = {e["id"]: e for e in json.loads(_printed(capsys, "json"))}
    for requirement, entry in entries.items():
        assert entry["mutants"] == [m for m, ids in CAUGHT_BY.items() if requirement in ids]
    table = _printed(capsys, "markdown")
    for mutant, ids in CAUGHT_BY.items():
        for requirement in ids:
            row = next(line for line in table.splitlines()
                       if line.startswith(f"| {requirement} |"))
            assert mutant in row.rsplit(" | ", 1)[1], (mutant, requirement)


def test_level_filters_both_formats(capsys: pytest.CaptureFixture[str]) -> None:
    entries = json.loads(_printed(capsys, "json", level="MUST"))
    assert {e["level"] for e in entries} == {"MUST"}
    assert len(entries) == sum(r.level.value == "MUST" for r in CATALOG.values())
    assert "| OPEN-" not in _printed(capsys, "markdown", level="MUST")


def test_through_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["requirements", "--format", "json"]) == 0
    assert [e["id"] for e in json.loads(capsys.readouterr().out)] == list(CATALOG)
    assert main(["requirements"]) == 0
    assert capsys.readouterr().out.startswith("| ID | level | area |")
