"""The oracle's reading of a create request's body: which rule it breaks, if any.

Part of the oracle (`model.py` asks it before it expects anything of a create): the
documented fields, types and ranges, and the leniencies the documentation leaves open
(a whole-valued float for an integer, null for an omitted optional field).
"""

from __future__ import annotations

from typing import Any

from conformance.api import EXPIRES_AFTER_RANGE, PURPOSES, UPLOAD_LIMIT


def create_request_problem(body: Any) -> str | None:
    """What makes a create request invalid by the documentation, or None if it is valid.

    Only documented rules count: leniency the documentation leaves open (null for an
    optional field, 10.0 for an integer) is judged elsewhere, never here.
    """
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    required = {"filename", "purpose", "bytes", "mime_type"}
    allowed = required | {"expires_after"}
    if missing := sorted(required - body.keys()):
        return f"missing field {missing[0]!r}"
    if unknown := sorted(body.keys() - allowed):
        return f"unknown field {unknown[0]!r}"
    if not isinstance(body["filename"], str):
        return "filename is not a string"
    if not isinstance(body["mime_type"], str):
        return "mime_type is not a string"
    if body["purpose"] not in PURPOSES:
        return f"purpose {body['purpose']!r} is not one of {', '.join(PURPOSES)}"
    size = body["bytes"]
    if not _is_integer(size):
        return "bytes is not an integer"
    if size < 0:
        return "bytes is negative"
    if size > UPLOAD_LIMIT:
        return "bytes is over 8 GiB"
    if "expires_after" in body and body["expires_after"] is not None:
        return _expires_after_problem(body["expires_after"])
    return None


def create_request_leniency(body: dict[str, Any]) -> str | None:
    """What makes a valid create request valid only by a lenient reading, if anything."""
    if body.get("expires_after", ...) is None:
        return "expires_after is null"
    if isinstance(body["bytes"], float):
        return "bytes is a whole-valued float"
    seconds = (body.get("expires_after") or {}).get("seconds")
    if isinstance(seconds, float):
        return "expires_after.seconds is a whole-valued float"
    if not body["filename"].strip():
        return "filename is empty or blank"
    return None


def _expires_after_problem(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "expires_after is not an object"
    if set(value) != {"anchor", "seconds"}:
        return "expires_after must hold exactly anchor and seconds"
    if value["anchor"] != "created_at":
        return "expires_after.anchor is not 'created_at'"
    seconds = value["seconds"]
    low, high = EXPIRES_AFTER_RANGE
    if not _is_integer(seconds) or not low <= seconds <= high:
        return f"expires_after.seconds is not an integer in {low}..{high}"
    return None


def _is_integer(value: Any) -> bool:
    # JSON Schema counts 10.0 as an integer; a boolean is never one.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
