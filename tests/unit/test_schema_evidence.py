"""The schema checks' evidence: findings and exchanges never hold the key, curl lines read it
from the environment, and a deliberately wrong key is shown as sent."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis

from conformance.evidence import Redactor
from conformance.openapi import default_openapi_path
from conformance.results import Exchange
from conformance.schema.cases import prepare
from conformance.schema.exchanges import SchemaEvidence
from conformance.schema.findings import Findings

KEY = "sk-proj-evidence-0123456789"
BASE = "http://127.0.0.1:9/v1"


@pytest.fixture(scope="module")
def operations() -> dict[str, Any]:
    schema = schemathesis.openapi.from_path(default_openapi_path())
    return {op.ok().definition.raw["operationId"]: op.ok() for op in schema.get_all_operations()}


def test_findings_scrub_the_key_from_messages_and_steps() -> None:
    findings = Findings(Redactor(KEY))
    empty = Exchange("POST", BASE, {}, "", None, {}, "", None, 0.0, "")
    findings.failed("SCHEMA-RESPONSE", "createUpload", "kind", f"echoed {KEY}",
                    lambda: empty, [f"POST /uploads/{KEY}/cancel -> 500"], "test")
    findings.observed("OPEN-LENIENCY", "createUpload", f"accepted {KEY}", "test")
    text = json.dumps([f.to_dict() for f in findings.result()])
    assert KEY not in text and text.count("[REDACTED]") == 3


def test_an_exchange_hides_the_key_and_its_curl_reads_it_from_the_environment(
        operations: dict[str, Any]) -> None:
    evidence = SchemaEvidence(BASE, KEY, Redactor(KEY))
    body = {"filename": KEY, "purpose": "batch", "bytes": 1, "mime_type": "text/plain"}
    case = operations["createUpload"].Case(body=body, media_type="application/json")
    headers = {"Authorization": f"Bearer {KEY}"}
    exchange = evidence.exchange(case, None, headers, error=f"no answer from {KEY}")
    assert KEY not in json.dumps(exchange.to_dict())
    assert exchange.request_headers["Authorization"] == "Bearer [REDACTED]"
    assert '-H "Authorization: Bearer $OPENAI_API_KEY"' in exchange.curl
    assert "[Filtered]" not in exchange.curl and exchange.curl.startswith("curl ")


def test_a_wrong_key_is_shown_as_sent(operations: dict[str, Any]) -> None:
    evidence = SchemaEvidence(BASE, KEY, Redactor(KEY))
    case = operations["cancelUpload"].Case(path_parameters={"upload_id": "upload_1"})
    curl = evidence.curl(prepare(case, BASE, {"Authorization": "Bearer sk-wrong-on-purpose"}))
    assert "-H 'Authorization: Bearer sk-wrong-on-purpose'" in curl
    assert "$OPENAI_API_KEY" not in curl


def test_a_part_request_is_summarised_not_dumped(operations: dict[str, Any]) -> None:
    evidence = SchemaEvidence(BASE, KEY, Redactor(KEY))
    case = operations["addUploadPart"].Case(path_parameters={"upload_id": "upload_1"},
                                            body={"data": b"x" * 5000},
                                            media_type="multipart/form-data")
    exchange = evidence.exchange(case, None, {})
    assert exchange.request_body.startswith("<multipart/form-data: data=")
    assert "5000 bytes" in exchange.request_body

