"""The request judge on the schema checks' side: what the project reads as an invalid
request, leniencies included, for requests as schemathesis sends them (through `requests`).

It decides whether an accepted schema-invalid request is a failure, so it must never call
a request invalid that the documentation lets a target accept.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from conformance.evidence import Redactor
from conformance.openapi.judge import Judgement, Reading, RequestJudge, default_judge
from conformance.schema.exchanges import SchemaEvidence

URL = "http://target.test/v1/uploads"
CREATE = {"filename": "a.jsonl", "purpose": "batch", "bytes": 10, "mime_type": "text/jsonl"}


class _WireJudge:
    """The judge as the schema checks call it: on a request read as it went on the wire."""

    def __init__(self, judge: RequestJudge) -> None:
        self._judge = judge
        self._evidence = SchemaEvidence(URL, None, Redactor())

    def judge(self, operation: str, request: requests.PreparedRequest) -> Judgement:
        return self._judge.judge(operation, self._evidence.describe(request))


@pytest.fixture(scope="module")
def judge() -> _WireJudge:
    return _WireJudge(default_judge())


def _json(body: Any, content_type: str = "application/json") -> requests.PreparedRequest:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.Request("POST", URL, data=data,
                            headers={"Content-Type": content_type}).prepare()


def _form(files: dict[str, Any] | None = None, data: dict[str, str] | None = None
          ) -> requests.PreparedRequest:
    return requests.Request("POST", f"{URL}/u/parts", files=files, data=data).prepare()


@pytest.mark.parametrize("body", [
    CREATE,
    {**CREATE, "bytes": 0},
    {**CREATE, "bytes": 8 * 1024**3},
    {**CREATE, "purpose": "evals"},  # the SDK's purposes, not only the older four
    {**CREATE, "expires_after": {"anchor": "created_at", "seconds": 3600}},
    {**CREATE, "mime_type": "anything"},  # strings are strings
])
def test_valid_create_requests(judge: _WireJudge, body: dict[str, Any]) -> None:
    assert judge.judge("createUpload", _json(body)).reading is Reading.VALID


@pytest.mark.parametrize(("body", "broken"), [
    ({**CREATE, "bytes": -1}, ("/bytes", "minimum")),
    ({**CREATE, "bytes": 8 * 1024**3 + 1}, ("/bytes", "maximum")),
    ({**CREATE, "bytes": True}, ("/bytes", "type")),
    ({**CREATE, "bytes": 10.5}, ("/bytes", "type")),
    ({**CREATE, "purpose": "fine-tune-results"}, ("/purpose", "enum")),
    ({**CREATE, "colour": "blue"}, ("/", "additionalProperties")),
    ({k: v for k, v in CREATE.items() if k != "mime_type"}, ("/", "required")),
    ({**CREATE, "expires_after": {"anchor": "created_at", "seconds": 3599}},
     ("/expires_after/seconds", "minimum")),
    ({**CREATE, "expires_after": {"anchor": "now", "seconds": 3600}},
     ("/expires_after/anchor", "const")),
    ([CREATE], ("/", "type")),
])
def test_invalid_create_requests(judge: _WireJudge, body: Any, broken: tuple[str, str]) -> None:
    judged = judge.judge("createUpload", _json(body))
    assert (judged.reading, (judged.where, judged.keyword)) == (Reading.INVALID, broken)
    assert judged.reason.startswith(f"{broken[0]}: ")  # then the validator's own words


def test_a_body_that_is_not_json_is_invalid(judge: _WireJudge) -> None:
    for raw in (b"", b"\x9c`", b'{"bytes": NaN}'):
        assert judge.judge("createUpload", _json(raw)).reading is Reading.INVALID


@pytest.mark.parametrize(("change", "reason"), [
    ({"bytes": 10.0}, "a whole-valued float for the integer /bytes"),
    ({"expires_after": {"anchor": "created_at", "seconds": 3600.0}},
     "a whole-valued float for the integer /expires_after/seconds"),
    ({"filename": " "}, "an empty or blank filename"),
    ({"mime_type": ""}, "an empty or blank mime_type"),
])
def test_what_the_documentation_leaves_open_is_open(judge: _WireJudge, change: dict[str, Any],
                                                    reason: str) -> None:
    judged = judge.judge("createUpload", _json({**CREATE, **change}))
    assert (judged.reading, judged.reason) == (Reading.OPEN, reason)


def test_open_leniencies_are_open_not_invalid(judge: _WireJudge) -> None:
    assert judge.judge("createUpload", _json({**CREATE, "expires_after": None})).reading \
        is Reading.OPEN
    assert judge.judge("completeUpload", _json({"part_ids": [], "md5": None})).reading \
        is Reading.OPEN
    for content_type in ("text/plain", "multipart/form-data", ""):
        judged = judge.judge("createUpload", _json(CREATE, content_type))
        assert judged.reading is Reading.OPEN, content_type
    # ... but an invalid body stays invalid whatever its content type says.
    assert judge.judge("createUpload", _json({**CREATE, "bytes": -1}, "text/plain")).reading \
        is Reading.INVALID


def test_complete_requests(judge: _WireJudge) -> None:
    valid = {"part_ids": ["part_1", "part_2"], "md5": "ABCDEF"}
    assert judge.judge("completeUpload", _json(valid)).reading is Reading.VALID
    for body in ({"part_ids": [1]}, {"md5": "x"}, {"part_ids": [], "md5": 5},
                 {"part_ids": [], "extra": 1}):
        assert judge.judge("completeUpload", _json(body)).reading is Reading.INVALID, body


def test_part_requests(judge: _WireJudge) -> None:
    def verdict(request: requests.PreparedRequest) -> Reading:
        return judge.judge("addUploadPart", request).reading

    assert verdict(_form(files={"data": ("chunk", b"abc")})) is Reading.VALID
    assert verdict(_form(files={"data": ("chunk", b"")})) is Reading.VALID
    # A plain form field (no filename), and extra fields: left open.
    assert verdict(_form(files={"data": (None, "abc")})) is Reading.OPEN
    assert verdict(_form(files={"data": ("c", b"abc")}, data={"note": "x"})) is Reading.OPEN
    assert verdict(_form(data={"data": "abc"})) is Reading.INVALID  # urlencoded, not multipart
    assert verdict(_form(files={"other": ("c", b"abc")})) is Reading.INVALID
    assert verdict(_json({"data": "abc"})) is Reading.INVALID  # not multipart
    no_boundary = requests.Request("POST", URL, data=b"--x\r\n",
                                   headers={"Content-Type": "multipart/form-data"}).prepare()
    assert verdict(no_boundary) is Reading.INVALID


def test_cancel_has_no_request_format_to_break(judge: _WireJudge) -> None:
    request = requests.Request("POST", f"{URL}/u/cancel").prepare()
    assert judge.judge("cancelUpload", request).reading is Reading.VALID
