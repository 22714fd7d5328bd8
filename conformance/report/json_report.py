"""report.json: the run as data (RunReport.to_dict), checked against report.schema.json.

It is the one report that holds everything; the others are renderings of it and can be
rendered again from it (`uploads-conformance report report.json`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from conformance.results import REPORT_SCHEMA_VERSION, RunReport

__all__ = ["SCHEMA_PATH", "ReportError", "dump_json", "load_report", "schema", "validate"]

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")


class ReportError(ValueError):
    """A report.json that cannot be read: the message is one line, fit for a user."""


def dump_json(report: RunReport) -> str:
    data = report.to_dict()
    try:
        text = json.dumps(data, indent=2, ensure_ascii=False)
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate from some odd answer: escape everything
        text = json.dumps(data, indent=2, ensure_ascii=True)
    return text + "\n"


@cache
def schema() -> dict[str, Any] | None:
    """The JSON Schema of report.json (draft 2020-12); None if it was not installed."""
    try:
        return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def validate(data: Any) -> list[str]:
    """What is wrong with `data` as a report.json, as short messages (empty: nothing)."""
    document = schema()
    if document is None:
        return []  # RunReport.from_dict still checks the shape
    try:
        import jsonschema_rs
    except ImportError:  # a dependency of schemathesis, so normally there
        return _validate_with_jsonschema(document, data)
    validator = jsonschema_rs.validator_for(document)
    return [f"{_where(e.instance_path)}: {e.message}" for e in validator.iter_errors(data)]


def _validate_with_jsonschema(document: dict[str, Any], data: Any) -> list[str]:
    try:
        import jsonschema
    except ImportError:
        return []  # no validator at all: RunReport.from_dict still checks the shape
    validator = jsonschema.Draft202012Validator(document)
    return [f"{_where(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]


def _where(path: Any) -> str:
    return "/" + "/".join(str(p) for p in path)


def load_report(path: Path | str) -> RunReport:
    """Read a report.json; ReportError (one line) if it is missing, not JSON or not a report."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ReportError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ReportError(f"{path}: not a report.json (no schema_version)")
    version = str(data["schema_version"])
    ours_major, ours_minor = _version(REPORT_SCHEMA_VERSION)
    major, minor = _version(version)
    if major != ours_major:
        raise ReportError(f"{path}: report schema {version} is not supported "
                          f"(this version reads {ours_major}.x)")
    if minor <= ours_minor:  # a newer minor version may add fields our schema does not know
        problems = validate(data)
        if problems:
            more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
            raise ReportError(f"{path}: not a valid report.json: {problems[0]}{more}")
    try:
        return RunReport.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(f"{path}: not a valid report.json ({type(exc).__name__}: {exc})") \
            from None


def _version(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    try:
        return int(major), int(minor or 0)
    except ValueError:
        return -1, 0
