"""Reading a JSON request body strictly: bounded size, a JSON content type, one object.

Refusals: a body over 1 MiB is 413 (known from Content-Length before reading, or counted
while reading); anything else wrong - no JSON content type, not UTF-8, not JSON, NaN or
Infinity, a duplicated key, nesting too deep, not an object - is 400; a body that stalls is
408 (`body_stream`).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import ClientDisconnect, Request

from .body_stream import body_chunks
from .errors import ApiError, bad_request, too_large
from .limits import JSON_BODY_MAX_BYTES
from .rules import Rules


async def read_json_object(request: Request, rules: Rules,
                           stall_timeout: float | None = None) -> dict[str, Any]:
    """The request's body, which must be a JSON object (408 if it stalls `stall_timeout`)."""
    body = await _read_bounded(request, stall_timeout)
    if not body:
        raise bad_request("The request body must be a JSON object; it is empty.",
                          code="missing_body")
    _require_json_content_type(request)
    return _decode_object(body, rules)


async def read_empty_or_json_object(request: Request, rules: Rules,
                                    stall_timeout: float | None = None) -> dict[str, Any]:
    """For operations without a body: nothing, or a JSON object (checked by the caller)."""
    body = await _read_bounded(request, stall_timeout)
    if not body:
        return {}
    _require_json_content_type(request)
    return _decode_object(body, rules)


async def _read_bounded(request: Request, stall_timeout: float | None) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > JSON_BODY_MAX_BYTES:
        raise _body_too_large()
    chunks: list[bytes] = []
    received = 0
    try:
        async for chunk in body_chunks(request, stall_timeout):
            received += len(chunk)
            if received > JSON_BODY_MAX_BYTES:
                raise _body_too_large()
            chunks.append(chunk)
    except ClientDisconnect:
        raise bad_request("The client went away before the body arrived.",
                          code="client_disconnected") from None
    return b"".join(chunks)


def _body_too_large() -> ApiError:
    return too_large(f"A JSON request body may be at most {JSON_BODY_MAX_BYTES} bytes.",
                     code="request_too_large")


def _require_json_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    essence = content_type.split(";", 1)[0].strip().lower()
    if essence != "application/json":
        raise bad_request(
            f"The body must be sent as application/json, not {content_type or 'untyped'}.",
            code="unsupported_content_type",
        )


def _decode_object(body: bytes, rules: Rules) -> dict[str, Any]:
    try:
        value = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicate_keys,
                           parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError too
        refusal = bad_request(f"The body is not valid JSON: {exc}", code="invalid_json")
        raise rules.bad_json(exc, refusal) from None
    if not isinstance(value, dict):
        raise bad_request("The body must be a JSON object.", code="invalid_json")
    return value


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON does not.
    raise ValueError(f"{name} is not JSON")
