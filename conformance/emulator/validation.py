"""The request schemas: create, complete and clock-advance bodies checked field by field.

Strict where the documentation is, and where it is silent (each choice is in the README):
no unknown fields, booleans are not integers, a whole-valued float such as 10.0 is accepted
as an integer (JSON Schema counts it as one), `null` for an optional field is omitted, an
md5 is 32 hex digits in either case, and a mime_type is `type/subtype` fitting the purpose.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import bad_request
from .limits import FILE_EXPIRY_MAX_SECONDS, FILE_EXPIRY_MIN_SECONDS
from .rules import Rules

PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
# Purposes whose files are read as JSON lines, and the types such a file may be sent as.
JSON_LINES_PURPOSES = frozenset({"batch", "fine-tune", "evals"})
JSON_LINES_MIME_TYPES = frozenset({
    "application/jsonl",
    "application/json",
    "application/x-ndjson",
    "application/jsonlines",
    "application/x-jsonlines",
    "text/jsonl",
    "text/plain",
})

_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"  # RFC 6838 restricted-name
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\\r\n]|\\[^\r\n])*"'
_MIME_TYPE = re.compile(rf"(?P<essence>{_NAME}/{_NAME})(?:\s*;\s*{_TOKEN}=(?:{_TOKEN}|{_QUOTED}))*")
_MD5 = re.compile(r"[0-9a-fA-F]{32}")

_CREATE_FIELDS = ("bytes", "filename", "mime_type", "purpose", "expires_after")
_CREATE_REQUIRED = ("bytes", "filename", "mime_type", "purpose")
_EXPIRES_AFTER_FIELDS = ("anchor", "seconds")
_COMPLETE_FIELDS = ("part_ids", "md5")


@dataclass(frozen=True)
class CreateUpload:
    bytes: int
    filename: str
    mime_type: str
    purpose: str
    file_expires_after: int | None


@dataclass(frozen=True)
class CompleteUpload:
    part_ids: list[str]
    md5: str | None  # lower-case hex


def parse_create(body: Mapping[str, Any], rules: Rules) -> CreateUpload:
    if rules.refuses_unknown_create_fields():
        _only_known_fields(body, _CREATE_FIELDS)
    _required_fields(body, _CREATE_REQUIRED)
    size = _integer(body["bytes"], "bytes")
    if size < rules.min_upload_bytes():
        raise bad_request("bytes must not be negative.", param="bytes", code="invalid_value")
    limit = rules.max_upload_bytes()
    if size > limit:
        raise bad_request(f"An upload may hold at most {limit} bytes; {size} were declared.",
                          param="bytes", code="upload_too_large")
    filename = _string(body["filename"], "filename")
    if not filename:
        raise bad_request("filename must not be empty.", param="filename", code="invalid_value")
    purpose = _string(body["purpose"], "purpose")
    if purpose not in PURPOSES:
        raise bad_request(f"purpose must be one of {', '.join(PURPOSES)}; not {purpose!r}.",
                          param="purpose", code="invalid_value")
    mime_type = _string(body["mime_type"], "mime_type")
    _check_mime_type(mime_type, purpose)
    return CreateUpload(size, filename, mime_type, purpose,
                        _expires_after(body.get("expires_after")))


def parse_complete(body: Mapping[str, Any], rules: Rules) -> CompleteUpload:
    strict = rules.checks_complete_body()
    if strict:
        _only_known_fields(body, _COMPLETE_FIELDS)
    _required_fields(body, ("part_ids",))
    part_ids = body["part_ids"]
    if not isinstance(part_ids, list) or not all(isinstance(p, str) for p in part_ids):
        raise bad_request("part_ids must be an array of strings.", param="part_ids",
                          code="invalid_type")
    md5 = body.get("md5")
    if md5 is not None and not strict and not isinstance(md5, str):
        md5 = None  # what a lax reader of the body does with a number
    if md5 is not None:
        if not isinstance(md5, str) or not _MD5.fullmatch(md5):
            raise bad_request("md5 must be 32 hexadecimal digits.", param="md5",
                              code="invalid_value")
        md5 = md5.lower()
    return CompleteUpload(list(part_ids), md5)


def parse_clock_advance(body: Mapping[str, Any]) -> float:
    """The body of POST /_conformance/clock/advance: `{"seconds": <number >= 0>}`."""
    _only_known_fields(body, ("seconds",))
    _required_fields(body, ("seconds",))
    seconds = body["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise bad_request("seconds must be a number.", param="seconds", code="invalid_type")
    if not math.isfinite(seconds) or seconds < 0:
        raise bad_request("seconds must be a finite number >= 0.", param="seconds",
                          code="invalid_value")
    return float(seconds)


def _expires_after(value: Any) -> int | None:
    if value is None:  # null is treated as omitted
        return None
    if not isinstance(value, dict):
        raise bad_request("expires_after must be an object.", param="expires_after",
                          code="invalid_type")
    _only_known_fields(value, _EXPIRES_AFTER_FIELDS, prefix="expires_after.")
    _required_fields(value, _EXPIRES_AFTER_FIELDS, prefix="expires_after.")
    if value["anchor"] != "created_at":
        raise bad_request("expires_after.anchor must be 'created_at'.",
                          param="expires_after.anchor", code="invalid_value")
    seconds = _integer(value["seconds"], "expires_after.seconds")
    if not FILE_EXPIRY_MIN_SECONDS <= seconds <= FILE_EXPIRY_MAX_SECONDS:
        raise bad_request(
            f"expires_after.seconds must be from {FILE_EXPIRY_MIN_SECONDS} to "
            f"{FILE_EXPIRY_MAX_SECONDS}.", param="expires_after.seconds", code="invalid_value")
    return seconds


def _check_mime_type(mime_type: str, purpose: str) -> None:
    match = _MIME_TYPE.fullmatch(mime_type.strip())
    if match is None:
        raise bad_request(f"mime_type must look like type/subtype, not {mime_type!r}.",
                          param="mime_type", code="invalid_value")
    essence = match["essence"].lower()
    if purpose in JSON_LINES_PURPOSES and essence not in JSON_LINES_MIME_TYPES:
        allowed = ", ".join(sorted(JSON_LINES_MIME_TYPES))
        raise bad_request(f"For purpose {purpose!r} mime_type must be one of {allowed}.",
                          param="mime_type", code="unsupported_mime_type")
    if purpose == "vision" and not essence.startswith("image/"):
        raise bad_request("For purpose 'vision' mime_type must be an image type.",
                          param="mime_type", code="unsupported_mime_type")


def _only_known_fields(body: Mapping[str, Any], known: Iterable[str], prefix: str = "") -> None:
    unknown = sorted(set(body) - set(known))
    if unknown:
        raise bad_request(f"Unknown field: {prefix}{unknown[0]}.", param=prefix + unknown[0],
                          code="unknown_parameter")


def _required_fields(body: Mapping[str, Any], required: Iterable[str], prefix: str = "") -> None:
    for name in required:
        if name not in body:
            raise bad_request(f"Missing required field: {prefix}{name}.", param=prefix + name,
                              code="missing_required_parameter")


def _integer(value: Any, param: str) -> int:
    # bool is a subclass of int in Python; in JSON true is not a number.
    if isinstance(value, bool):
        raise bad_request(f"{param} must be an integer, not a boolean.", param=param,
                          code="invalid_type")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise bad_request(f"{param} must be an integer.", param=param, code="invalid_type")


def _string(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise bad_request(f"{param} must be a string.", param=param, code="invalid_type")
    return value
