"""The request judge: what the project reads as an invalid request, leniencies included.

It decides whether an accepted schema-invalid request is a failure, so it must never call
a request invalid that the documentation lets a target accept.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import yaml

from conformance.schema_checks import _RequestJudge, _Verdict, default_openapi_path

URL = "http://target.test/v1/uploads"
CREATE = {"filename": "a.jsonl", "purpose": "batch", "bytes": 10, "mime_type": "text/jsonl"}


@pytest.fixture(scope="module")
def judge() -> _RequestJudge:
    return _RequestJudge(yaml.safe_load(default_openapi_path().read_text()))


def _json(body: Any, content_type: str = "application/json") -> requests.PreparedRequest:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.Request("POST", URL, data=data,
                            headers={"Content-Type": content_type}).prepare()


def _form(files: dict[str, Any] | None = None, data: dict[str, str] | None = None
          ) -> requests.PreparedRequest:
    return requests.Request("POST", f"{URL}/u/parts", files=files, data=data).prepare()


@pytest.mark.parametrize("body", [
    CREATE,
    {**CREATE, "bytes": 10.0},  # JSON Schema counts a whole-valued float as an integer
    {**CREATE, "bytes": 0},
    {**CREATE, "bytes": 8 * 1024**3},
    {**CREATE, "purpose": "evals"},  # the SDK's purposes, not only the older four
    {**CREATE, "expires_after": {"anchor": "created_at", "seconds": 3600}},
    {**CREATE, "filename": "", "mime_type": "anything"},  # strings are strings
])
def test_valid_create_requests(judge: _RequestJudge, body: dict[str, Any]) -> None:
    assert judge.judge("createUpload", _json(body)).verdict is _Verdict.VALID


@pytest.mark.parametrize(("body", "reason"), [
    ({**CREATE, "bytes": -1}, "/bytes: violates minimum"),
    ({**CREATE, "bytes": 8 * 1024**3 + 1}, "/bytes: violates maximum"),
    ({**CREATE, "bytes": True}, "/bytes: violates type"),
    ({**CREATE, "bytes": 10.5}, "/bytes: violates type"),
    ({**CREATE, "purpose": "fine-tune-results"}, "/purpose: violates enum"),
    ({**CREATE, "colour": "blue"}, "/: violates additionalProperties"),
    ({k: v for k, v in CREATE.items() if k != "mime_type"}, "/: violates required"),
    ({**CREATE, "expires_after": {"anchor": "created_at", "seconds": 3599}},
     "/expires_after/seconds: violates minimum"),
    ({**CREATE, "expires_after": {"anchor": "now", "seconds": 3600}},
     "/expires_after/anchor: violates const"),
    ([CREATE], "/: violates type"),
])
def test_invalid_create_requests(judge: _RequestJudge, body: Any, reason: str) -> None:
    judged = judge.judge("createUpload", _json(body))
    assert (judged.verdict, judged.reason) == (_Verdict.INVALID, reason)


def test_a_body_that_is_not_json_is_invalid(judge: _RequestJudge) -> None:
    for raw in (b"", b"\x9c`", b'{"bytes": NaN}'):
        assert judge.judge("createUpload", _json(raw)).verdict is _Verdict.INVALID


def test_open_leniencies_are_open_not_invalid(judge: _RequestJudge) -> None:
    assert judge.judge("createUpload", _json({**CREATE, "expires_after": None})).verdict \
        is _Verdict.OPEN
    assert judge.judge("completeUpload", _json({"part_ids": [], "md5": None})).verdict \
        is _Verdict.OPEN
    for content_type in ("text/plain", "multipart/form-data", ""):
        judged = judge.judge("createUpload", _json(CREATE, content_type))
        assert judged.verdict is _Verdict.OPEN, content_type
    # ... but an invalid body stays invalid whatever its content type says.
    assert judge.judge("createUpload", _json({**CREATE, "bytes": -1}, "text/plain")).verdict \
        is _Verdict.INVALID


def test_complete_requests(judge: _RequestJudge) -> None:
    valid = {"part_ids": ["part_1", "part_2"], "md5": "ABCDEF"}
    assert judge.judge("completeUpload", _json(valid)).verdict is _Verdict.VALID
    for body in ({"part_ids": [1]}, {"md5": "x"}, {"part_ids": [], "md5": 5},
                 {"part_ids": [], "extra": 1}):
        assert judge.judge("completeUpload", _json(body)).verdict is _Verdict.INVALID, body


def test_part_requests(judge: _RequestJudge) -> None:
    def verdict(request: requests.PreparedRequest) -> _Verdict:
        return judge.judge("addUploadPart", request).verdict

    assert verdict(_form(files={"data": ("chunk", b"abc")})) is _Verdict.VALID
    assert verdict(_form(files={"data": ("chunk", b"")})) is _Verdict.VALID
    # A plain form field (no filename), and extra fields: left open.
    assert verdict(_form(files={"data": (None, "abc")})) is _Verdict.OPEN
    assert verdict(_form(files={"data": ("c", b"abc")}, data={"note": "x"})) is _Verdict.OPEN
    assert verdict(_form(data={"data": "abc"})) is _Verdict.INVALID  # urlencoded, not multipart
    assert verdict(_form(files={"other": ("c", b"abc")})) is _Verdict.INVALID
    assert verdict(_json({"data": "abc"})) is _Verdict.INVALID  # not multipart
    no_boundary = requests.Request("POST", URL, data=b"--x\r\n",
                                   headers={"Content-Type": "multipart/form-data"}).prepare()
    assert verdict(no_boundary) is _Verdict.INVALID


def test_cancel_has_no_request_format_to_break(judge: _RequestJudge) -> None:
    request = requests.Request("POST", f"{URL}/u/cancel").prepare()
    assert judge.judge("cancelUpload", request).verdict is _Verdict.VALID
