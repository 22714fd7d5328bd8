"""Creating uploads: the Upload object, the size limit, and every way a create body is refused."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.support.emulator_helpers import GIB, Api, refused

ID = re.compile(r"upload_[A-Za-z0-9]{24}")


def test_create_answers_a_pending_upload_echoing_the_request(api: Api) -> None:
    before = int(time.time())
    upload = api.new_upload(1234, filename="train.jsonl", purpose="fine-tune",
                            mime_type="application/jsonl")
    assert set(upload) == {"id", "object", "bytes", "created_at", "expires_at", "filename",
                           "purpose", "status", "file"}
    assert ID.fullmatch(upload["id"])
    assert upload["object"] == "upload"
    assert upload["bytes"] == 1234
    assert upload["filename"] == "train.jsonl"
    assert upload["purpose"] == "fine-tune"
    assert upload["status"] == "pending"
    assert upload["file"] is None
    assert before <= upload["created_at"] <= int(time.time())
    assert upload["expires_at"] == upload["created_at"] + 3600


def test_upload_ids_are_unique(api: Api) -> None:
    ids = {api.new_upload()["id"] for _ in range(50)}
    assert len(ids) == 50


@pytest.mark.parametrize(("purpose", "mime_type"), [
    ("assistants", "application/pdf"),
    ("assistants", "text/markdown; charset=utf-8"),
    ("user_data", "application/octet-stream"),
    ("batch", "application/jsonl"),
    ("batch", "application/x-ndjson"),
    ("fine-tune", "text/jsonl"),
    ("fine-tune", "Application/JSON"),
    ("evals", "text/plain"),
    ("vision", "image/png"),
    ("vision", "image/jpeg"),
])
def test_every_purpose_with_a_fitting_mime_type_is_accepted(api: Api, purpose: str,
                                                            mime_type: str) -> None:
    upload = api.new_upload(purpose=purpose, mime_type=mime_type)
    assert upload["purpose"] == purpose


def test_declared_size_boundaries(api: Api) -> None:
    assert api.new_upload(0)["bytes"] == 0
    assert api.new_upload(8 * GIB)["bytes"] == 8 * GIB
    refused(api.create(8 * GIB + 1), 400, code="upload_too_large")
    refused(api.create(-1), 400, code="invalid_value")
    refused(api.create(10**40), 400, code="upload_too_large")


def test_whole_valued_float_is_an_integer_but_a_fraction_is_not(api: Api) -> None:
    assert api.new_upload(10.0)["bytes"] == 10  # type: ignore[arg-type]
    refused(api.create(10.5), 400, code="invalid_type")  # type: ignore[arg-type]
    huge = b'{"bytes": 1e400, "filename": "a", "purpose": "assistants", "mime_type": "a/b"}'
    refused(api.post_raw("/uploads", huge, "application/json"), 400)  # 1e400 reads as inf


def test_null_expires_after_is_omitted(api: Api) -> None:
    assert api.new_upload(expires_after=None)["status"] == "pending"


def test_expires_after_within_range_is_accepted(api: Api) -> None:
    for seconds in (3600, 2_592_000):
        api.new_upload(expires_after={"anchor": "created_at", "seconds": seconds})


def _without(field: str) -> dict[str, Any]:
    body: dict[str, Any] = {"bytes": 10, "filename": "a.bin", "purpose": "assistants",
                            "mime_type": "application/octet-stream"}
    del body[field]
    return body


BAD_CREATE_BODIES: dict[str, dict[str, Any]] = {
    "missing bytes": _without("bytes"),
    "missing filename": _without("filename"),
    "missing purpose": _without("purpose"),
    "missing mime_type": _without("mime_type"),
    "unknown field": {"bytes": 10, "filename": "a", "purpose": "assistants",
                      "mime_type": "text/plain", "colour": "blue"},
    "bytes as string": {"bytes": "10", "filename": "a", "purpose": "assistants",
                        "mime_type": "text/plain"},
    "bytes as boolean": {"bytes": True, "filename": "a", "purpose": "assistants",
                         "mime_type": "text/plain"},
    "bytes null": {"bytes": None, "filename": "a", "purpose": "assistants",
                   "mime_type": "text/plain"},
    "filename as number": {"bytes": 1, "filename": 7, "purpose": "assistants",
                           "mime_type": "text/plain"},
    "empty filename": {"bytes": 1, "filename": "", "purpose": "assistants",
                       "mime_type": "text/plain"},
    "unknown purpose": {"bytes": 1, "filename": "a", "purpose": "fine-tune-results",
                        "mime_type": "text/plain"},
    "purpose in wrong case": {"bytes": 1, "filename": "a", "purpose": "Assistants",
                              "mime_type": "text/plain"},
    "mime_type not type/subtype": {"bytes": 1, "filename": "a", "purpose": "assistants",
                                   "mime_type": "pdf"},
    "mime_type with spaces": {"bytes": 1, "filename": "a", "purpose": "assistants",
                              "mime_type": "text / plain"},
    "mime_type as list": {"bytes": 1, "filename": "a", "purpose": "assistants",
                          "mime_type": ["text/plain"]},
    "batch with a pdf": {"bytes": 1, "filename": "a", "purpose": "batch",
                         "mime_type": "application/pdf"},
    "fine-tune with csv": {"bytes": 1, "filename": "a", "purpose": "fine-tune",
                           "mime_type": "text/csv"},
    "evals with an image": {"bytes": 1, "filename": "a", "purpose": "evals",
                            "mime_type": "image/png"},
    "vision with text": {"bytes": 1, "filename": "a", "purpose": "vision",
                         "mime_type": "text/plain"},
    "expires_after not an object": {"bytes": 1, "filename": "a", "purpose": "assistants",
                                    "mime_type": "text/plain", "expires_after": 3600},
    "expires_after wrong anchor": {"bytes": 1, "filename": "a", "purpose": "assistants",
                                   "mime_type": "text/plain",
                                   "expires_after": {"anchor": "now", "seconds": 3600}},
    "expires_after too short": {"bytes": 1, "filename": "a", "purpose": "assistants",
                                "mime_type": "text/plain",
                                "expires_after": {"anchor": "created_at", "seconds": 3599}},
    "expires_after too long": {"bytes": 1, "filename": "a", "purpose": "assistants",
                               "mime_type": "text/plain",
                               "expires_after": {"anchor": "created_at", "seconds": 2592001}},
    "expires_after seconds boolean": {"bytes": 1, "filename": "a", "purpose": "assistants",
                                      "mime_type": "text/plain",
                                      "expires_after": {"anchor": "created_at",
                                                        "seconds": True}},
    "expires_after missing seconds": {"bytes": 1, "filename": "a", "purpose": "assistants",
                                      "mime_type": "text/plain",
                                      "expires_after": {"anchor": "created_at"}},
    "expires_after unknown field": {"bytes": 1, "filename": "a", "purpose": "assistants",
                                    "mime_type": "text/plain",
                                    "expires_after": {"anchor": "created_at",
                                                      "seconds": 3600, "days": 1}},
    "empty object": {},
}


@pytest.mark.parametrize("body", BAD_CREATE_BODIES.values(), ids=BAD_CREATE_BODIES.keys())
def test_bad_create_bodies_are_refused_with_400(api: Api, body: dict[str, Any]) -> None:
    error = refused(api.http.post("/uploads", json=body), 400)
    assert error["type"] == "invalid_request_error"


def test_refusals_name_the_offending_field(api: Api) -> None:
    assert refused(api.create(-1))["param"] == "bytes"
    assert refused(api.create(purpose="nope"))["param"] == "purpose"
    assert refused(api.create(extra=1))["param"] == "extra"
    error = refused(api.create(expires_after={"anchor": "created_at", "seconds": 5}))
    assert error["param"] == "expires_after.seconds"
