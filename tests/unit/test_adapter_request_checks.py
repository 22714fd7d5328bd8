"""What an SDK sent, held to the OpenAPI document: the multipart scanner, the judge, records."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest

from conformance.adapters.sdk_checks import expected_error_class, json_mismatches, request_problems
from conformance.adapters.sdk_records import (
    MultipartScanner,
    SentRequest,
    describe_request,
    render_exchange,
)
from conformance.evidence import Redactor
from conformance.openapi.judge import Intended, default_judge
from tests.support.adapter_helpers import API_KEY

BASE = "http://127.0.0.1:8000/v1"
CREATE = {"filename": "a.txt", "purpose": "assistants", "bytes": 3, "mime_type": "text/plain"}
PART = b"abc" * 1000


def _sent(request: httpx.Request, key: str = API_KEY) -> SentRequest:
    return describe_request(request.method, str(request.url), request.headers.multi_items(),
                            request.read(), key)


def _problems(request: httpx.Request, intended: Intended) -> list[str]:
    return request_problems(default_judge(), _sent(request), intended, BASE)


def _post(path: str, key: str = API_KEY, headers: dict[str, str] | None = None,
          **kwargs: Any) -> httpx.Request:
    return httpx.Request("POST", BASE + path,
                         headers={"Authorization": f"Bearer {key}", **(headers or {})}, **kwargs)


def _part_intent(data: bytes = PART) -> Intended:
    return Intended("addUploadPart", "upload_1", part_size=len(data),
                    part_md5=hashlib.md5(data).hexdigest())


# --- the multipart scanner ------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_the_scanner_reads_a_form_in_any_chunks(chunk: int) -> None:
    request = httpx.Request("POST", BASE, data={"note": "hi"},
                            files={"data": ("part.bin", PART, "application/octet-stream")})
    body = request.read()
    scanner = MultipartScanner(request.headers["content-type"])
    for at in range(0, len(body), chunk):
        scanner.feed(body[at : at + chunk])
    scanner.close()
    assert scanner.complete and scanner.error is None and scanner.size == len(body)
    assert [(f.name, f.filename, f.size) for f in scanner.fields] == [
        ("note", None, 2), ("data", "part.bin", len(PART))]
    assert scanner.fields[1].md5 == hashlib.md5(PART).hexdigest()
    assert scanner.fields[1].content_type == "application/octet-stream"


def test_a_part_holding_the_delimiters_prefix_is_read_whole() -> None:
    tricky = b"\r\n--" + b"x" * 100 + b"\r\n-"
    request = httpx.Request("POST", BASE, files={"data": ("p", tricky)})
    scanner = MultipartScanner(request.headers["content-type"])
    scanner.feed(request.read())
    assert scanner.fields[0].size == len(tricky)


@pytest.mark.parametrize(("content_type", "body", "error"), [
    ("multipart/form-data", b"--x\r\n", "without a boundary"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=data"
     b"\r\n\r\nabc", "ends before its closing delimiter"),
    ("multipart/form-data; boundary=x", b"--xgarbage", "not followed by a line break"),
])
def test_the_scanner_says_why_a_form_is_unreadable(content_type: str, body: bytes,
                                                   error: str) -> None:
    scanner = MultipartScanner(content_type)
    scanner.feed(body)
    scanner.close()
    assert scanner.error is not None and error in scanner.error


# --- the judge: requests as the document has them -------------------------------------


def test_requests_as_documented_have_no_problems() -> None:
    part = _post("/uploads/upload_1/parts", files={"data": ("part.bin", PART)})
    cases = [
        (_post("/uploads", json=CREATE), Intended("createUpload", body=CREATE)),
        (part, _part_intent()),
        (_post("/uploads/upload_1/complete", json={"part_ids": ["p1"], "md5": "0" * 32}),
         Intended("completeUpload", "upload_1", body={"part_ids": ["p1"], "md5": "0" * 32})),
        (_post("/uploads/upload_1/cancel"), Intended("cancelUpload", "upload_1")),
    ]
    for request, intended in cases:
        assert _problems(request, intended) == [], intended.operation


def test_an_odd_upload_id_is_compared_as_one_path_segment() -> None:
    request = _post("/uploads/up%2Fload%20x/cancel")
    assert _problems(request, Intended("cancelUpload", "up/load x")) == []


@pytest.mark.parametrize(("request_", "intended", "problem"), [
    (_post("/uploads/upload_1/parts", files={"file": ("part.bin", PART)}), _part_intent(),
     "0 form fields named 'data'"),
    (_post("/uploads/upload_1/parts", data={"data": "abc"}, files={"x": ("x", b"")}),
     _part_intent(b"abc"), "'data' sent as a plain form field, not a file"),
    (_post("/uploads/upload_1/parts", files={"data": ("part.bin", PART[:-1])}), _part_intent(),
     f"holds {len(PART) - 1} bytes, not the part's {len(PART)}"),
    (_post("/uploads/upload_1/parts", files={"data": ("part.bin", PART[::-1])}), _part_intent(),
     "other bytes than the part's"),
    (_post("/uploads/upload_1/parts", content=PART), _part_intent(), "not multipart/form-data"),
    (_post("/uploads", content=json.dumps(CREATE).encode(), headers={"Content-Type": "text/plain"}),
     Intended("createUpload", body=CREATE), "not application/json"),
    (_post("/uploads", json={**CREATE, "bytes": "3"}), Intended("createUpload", body=CREATE),
     "/bytes: \"3\" is not of type \"integer\""),
    (_post("/uploads", json={**CREATE, "colour": "red"}), Intended("createUpload", body=CREATE),
     "/colour: 'red', not expected"),
    (_post("/uploads/upload_1/complete", json={"part_ids": ["p2", "p1"]}),
     Intended("completeUpload", "upload_1", body={"part_ids": ["p1", "p2"]}),
     "/part_ids/0: 'p2' where 'p1' was expected"),
    (_post("/uploads/upload_1/complete", json={"part_ids": ["p1"], "md5": None}),
     Intended("completeUpload", "upload_1", body={"part_ids": ["p1"]}), "/md5"),
    # A leniency a target may take is still a departure for an SDK.
    (_post("/uploads/upload_1/complete", json={"part_ids": ["p1"], "md5": None}),
     Intended("completeUpload", "upload_1"), "null for the optional md5"),
    (_post("/uploads/upload_1/parts", files={"data": ("part.bin", PART), "note": ("n", b"")}),
     _part_intent(), "form fields besides one 'data' file"),
    (_post("/uploads/upload_1/cancel", content=b"{}"), Intended("cancelUpload", "upload_1"),
     "a body of 2 bytes where the operation has none"),
    (_post("/uploads/upload_2/cancel"), Intended("cancelUpload", "upload_1"),
     "not /v1/uploads/upload_1/cancel"),
    (_post("/uploads/upload_1/cancel?force=1"), Intended("cancelUpload", "upload_1"),
     "query string"),
    (httpx.Request("PUT", BASE + "/uploads/upload_1/cancel",
                   headers={"Authorization": f"Bearer {API_KEY}"}),
     Intended("cancelUpload", "upload_1"), "method PUT, not POST"),
    (_post("/uploads/upload_1/cancel", key="sk-someone-else"), Intended("cancelUpload", "upload_1"),
     "another key"),
    (httpx.Request("POST", BASE + "/uploads/upload_1/cancel"),
     Intended("cancelUpload", "upload_1"), "no Authorization header"),
])
def test_departures_are_named(request_: httpx.Request, intended: Intended, problem: str) -> None:
    found = _problems(request_, intended)
    assert any(problem in p for p in found), found


def test_an_odd_body_the_suite_asked_for_is_only_compared_not_validated() -> None:
    odd = {**CREATE, "bytes": -1}  # the suite's deliberate invalid body, sent faithfully
    assert _problems(_post("/uploads", json=odd), Intended("createUpload", body=odd)) == []


def test_json_values_compare_strictly_but_numbers_by_value() -> None:
    assert json_mismatches({"a": 1}, {"a": True}) != []
    assert json_mismatches({"a": 1.0}, {"a": 1}) == []
    assert json_mismatches([1, 2], [1]) != []
    assert json_mismatches({"a": {"b": None}}, {"a": {"b": None}}) == []


def test_exception_classes_by_status() -> None:
    assert expected_error_class(404, "APIStatusError") == "NotFoundError"
    assert expected_error_class(410, "APIStatusError") == "APIStatusError"
    assert expected_error_class(503, "APIError") == "InternalServerError"


# --- records --------------------------------------------------------------------------


def test_a_record_never_holds_the_key_and_reproduces_the_request() -> None:
    request = _post("/uploads", json={**CREATE, "filename": API_KEY})
    sent = _sent(request)
    exchange = render_exchange(sent, status=400, response_headers={"x-echo": API_KEY},
                               response_body=json.dumps({"error": API_KEY}).encode(),
                               error=None, duration_s=0.1, redactor=Redactor(API_KEY))
    text = json.dumps(exchange.to_dict())
    assert API_KEY not in text
    assert exchange.request_headers["authorization"] == "Bearer [REDACTED]"
    assert '"Authorization: Bearer $OPENAI_API_KEY"' in exchange.curl
    assert "--data-binary" in exchange.curl and exchange.curl.startswith("curl -sS -X POST")


def test_a_part_record_shows_the_form_not_the_bytes() -> None:
    sent = _sent(_post("/uploads/upload_1/parts", files={"data": ("part.bin", PART)}))
    exchange = render_exchange(sent, status=200, response_headers={}, response_body=b"{}",
                               error=None, duration_s=0.0, redactor=Redactor(API_KEY))
    assert exchange.request_body == f"<multipart/form-data: data=part.bin, {len(PART)} bytes>"
    assert "-F data=@part.bin" in exchange.curl and "head -c 3000" in exchange.curl
    assert "abcabc" not in exchange.curl
