"""exchanges.har: HAR 1.2 that any viewer opens, whatever a target answered, and no key in it."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance.report import FORMATS, render_har, write_reports
from conformance.report.writer import RENDERED
from conformance.results import Exchange, Finding, Outcome, RequirementResult, RunReport
from tests.support.report_samples import KEY

# The fields HAR 1.2 requires (http://www.softwareishard.com/blog/har-12-spec/), and the types
# viewers rely on. Optional fields we write (pageref, postData, comment) are checked too.
_NAME_VALUE = {"type": "object", "required": ["name", "value"],
               "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}
_PAIRS = {"type": "array", "items": _NAME_VALUE}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"}
HAR_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["log"],
    "properties": {"log": {
        "type": "object", "required": ["version", "creator", "entries"],
        "properties": {
            "version": {"const": "1.2"},
            "creator": {"type": "object", "required": ["name", "version"],
                        "properties": {"name": {"const": "uploads-conformance"},
                                       "version": {"type": "string"}}},
            "pages": {"type": "array", "items": {
                "type": "object", "required": ["startedDateTime", "id", "title", "pageTimings"],
                "properties": {"startedDateTime": _DATE, "id": {"type": "string"},
                               "title": {"type": "string"},
                               "pageTimings": {"type": "object"}}}},
            "entries": {"type": "array", "items": {
                "type": "object",
                "required": ["startedDateTime", "time", "request", "response", "cache",
                             "timings"],
                "properties": {
                    "pageref": {"type": "string"},
                    "startedDateTime": _DATE,
                    "time": {"type": "number", "minimum": 0},
                    "request": {
                        "type": "object",
                        "required": ["method", "url", "httpVersion", "cookies", "headers",
                                     "queryString", "headersSize", "bodySize"],
                        "properties": {
                            "method": {"type": "string"}, "url": {"type": "string"},
                            "httpVersion": {"type": "string"}, "cookies": {"type": "array"},
                            "headers": _PAIRS, "queryString": _PAIRS,
                            "headersSize": {"type": "integer"}, "bodySize": {"type": "integer"},
                            "postData": {"type": "object", "required": ["mimeType", "text"],
                                         "properties": {"mimeType": {"type": "string"},
                                                        "text": {"type": "string"}}}}},
                    "response": {
                        "type": "object",
                        "required": ["status", "statusText", "httpVersion", "cookies",
                                     "headers", "content", "redirectURL", "headersSize",
                                     "bodySize"],
                        "properties": {
                            "status": {"type": "integer"}, "statusText": {"type": "string"},
                            "httpVersion": {"type": "string"}, "cookies": {"type": "array"},
                            "headers": _PAIRS, "redirectURL": {"type": "string"},
                            "headersSize": {"type": "integer"}, "bodySize": {"type": "integer"},
                            "content": {"type": "object", "required": ["size", "mimeType"],
                                        "properties": {"size": {"type": "integer"},
                                                       "mimeType": {"type": "string"},
                                                       "text": {"type": "string"}}}}},
                    "cache": {"type": "object"},
                    "timings": {"type": "object", "required": ["send", "wait", "receive"],
                                "properties": {k: {"type": "number", "minimum": -1}
                                               for k in ("send", "wait", "receive")}},
                    "comment": {"type": "string"},
                }}},
        }}},
}


def har(report: RunReport) -> dict[str, Any]:
    text = render_har(report)
    text.encode("utf-8")  # writable as the file is written
    document: dict[str, Any] = json.loads(text)
    jsonschema.Draft202012Validator(HAR_SCHEMA).validate(document)
    return document


def one_finding(*exchanges: Exchange, message: str = "completion was accepted") -> RunReport:
    finding = Finding("COMPLETE-MD5", Outcome.FAIL, message, ["create", "complete"],
                      list(exchanges))
    result = RequirementResult("COMPLETE-MD5", "MUST", "md5", "docs", Outcome.FAIL, 1, 0,
                               [finding])
    return RunReport(target="http://t/v1", target_kind="external", profile="quick", seed=1,
                     started_at="2026-05-09T07:35:25+00:00", duration_s=1.0,
                     versions={"uploads-conformance": "9.9.9"}, requirements=[result],
                     exit_status=1, verdict="not conformant")


def exchange(**changes: Any) -> Exchange:
    base = Exchange("POST", "http://t/v1/uploads/upload_1/complete?api-version=1&x=",
                    {"Authorization": "Bearer [REDACTED]", "Content-Type": "application/json"},
                    '{"part_ids": ["part_1"]}', 200,
                    {"content-type": "application/json", "content-length": "20"},
                    '{"status": "completed"}', duration_s=0.25, curl="curl -sS ...")
    return dataclasses.replace(base, **changes)


def test_the_sample_report_is_har_with_a_page_per_finding(report: RunReport) -> None:
    document = har(report)["log"]
    assert document["creator"]["version"] == "0.1.0"  # the version that ran, from the report
    findings = [f for r in report.requirements for f in r.failures if f.exchanges]
    assert len(document["pages"]) == len(findings)
    assert len(document["entries"]) == sum(len(f.exchanges) for f in findings)
    page_ids = {page["id"] for page in document["pages"]}
    assert {entry["pageref"] for entry in document["entries"]} == page_ids
    assert document["pages"][0]["title"].startswith(f"{findings[0].requirement}: expected 200")


def test_an_exchange_is_carried_whole() -> None:
    entry = har(one_finding(exchange()))["log"]["entries"][0]
    request, response = entry["request"], entry["response"]
    assert request["method"] == "POST" and request["url"].endswith("?api-version=1&x=")
    assert request["queryString"] == [{"name": "api-version", "value": "1"},
                                      {"name": "x", "value": ""}]
    assert {"name": "Authorization", "value": "Bearer [REDACTED]"} in request["headers"]
    assert request["postData"] == {"mimeType": "application/json",
                                   "text": '{"part_ids": ["part_1"]}'}
    assert (response["status"], response["statusText"]) == (200, "OK")
    assert response["content"] == {"size": 20, "mimeType": "application/json",
                                   "text": '{"status": "completed"}'}
    assert entry["time"] == 250 and entry["timings"]["wait"] == 250
    assert entry["_curl"] == "curl -sS ..."


def test_an_exchange_without_an_answer_is_a_valid_entry() -> None:
    lost = exchange(status=None, response_headers={}, response_body="",
                    error="ReadTimeout: timed out")
    entry = har(one_finding(lost))["log"]["entries"][0]
    assert entry["response"]["status"] == 0 and entry["response"]["bodySize"] == -1
    assert entry["_error"] == "ReadTimeout: timed out"
    assert entry["comment"] == "no answer: ReadTimeout: timed out"


def test_times_are_the_runs_start_plus_the_durations_before() -> None:
    report = one_finding(exchange(duration_s=0.5), exchange(duration_s=1.25), exchange())
    document = har(report)["log"]
    starts = [datetime.fromisoformat(e["startedDateTime"].replace("Z", "+00:00"))
              for e in document["entries"]]
    first = datetime.fromisoformat(report.started_at)
    assert starts == [first, first + timedelta(seconds=0.5), first + timedelta(seconds=1.75)]
    assert document["pages"][0]["startedDateTime"] == "2026-05-09T07:35:25.000Z"
    assert "synthetic" in document["comment"]


@pytest.mark.parametrize("body", [
    "nul \x00 and escape \x1b[31m",
    "lone surrogate \ud800 from an odd answer",
    "<binary: 12 bytes, starting \ufffd\ufffd>",
    "x" * 2000 + "…[truncated: 104857600 bytes in all]",
    '"quotes", \\backslashes\\ and </script>',
])
def test_odd_bodies_keep_it_valid_json(body: str) -> None:
    entry = har(one_finding(exchange(request_body=body, response_body=body),
                            message=body))["log"]["entries"][0]
    assert entry["response"]["content"]["text"] == body


def test_a_report_without_exchanges_is_an_empty_log() -> None:
    report = one_finding()
    document = har(report)["log"]
    assert document["entries"] == [] and document["pages"] == []


def test_no_key_reaches_the_file(written: dict[str, Path], tmp_path: Path) -> None:
    text = written["har"].read_text(encoding="utf-8")
    assert KEY not in text and "[REDACTED]" in text
    # A key that slipped into an exchange raw is scrubbed by the writer, as from every file.
    leaky = one_finding(exchange(request_headers={"Authorization": f"Bearer {KEY}"},
                                 response_body=f'{{"echo": "{KEY}"}}', url=f"http://t/v1?k={KEY}"))
    path = write_reports(leaky, tmp_path, redact=[KEY], formats=["har"])["har"]
    text = path.read_text(encoding="utf-8")
    assert KEY not in text and text.count("[REDACTED]") >= 3
    json.loads(text)


def test_every_run_writes_it_and_the_report_command_rewrites_it() -> None:
    assert FORMATS["har"][0] == "exchanges.har" and "har" in RENDERED
