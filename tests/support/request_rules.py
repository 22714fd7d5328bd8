"""Independent readings of the request rules, to judge what the strategies generate (the
`create_rules` and `complete_rules` fixtures of tests/unit).

Written from the facts (`tests.support.facts`), not from the generators: a body the
generator calls invalid must break one of these rules even under the most lenient reading
the documentation allows (whole-valued floats as integers, null optional fields as omitted).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.facts import (
    EXPIRES_AFTER_MAX_S,
    EXPIRES_AFTER_MIN_S,
    PURPOSES,
    UPLOAD_LIMIT,
)

Validator = Callable[..., list[str]]


def _is_integer(value: Any, lenient: bool) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return lenient and isinstance(value, float) and value.is_integer()


def create_errors(body: Any, lenient: bool = False) -> list[str]:
    """The rules a create body breaks (empty when it is valid)."""
    if not isinstance(body, dict):
        return ["body is not an object"]
    errors = []
    allowed = {"filename", "purpose", "bytes", "mime_type", "expires_after"}
    errors += [f"unknown field {key}" for key in body if key not in allowed]
    for key in ("filename", "purpose", "bytes", "mime_type"):
        if key not in body:
            errors.append(f"{key} missing")
    for key in ("filename", "purpose", "mime_type"):
        if key in body and not isinstance(body[key], str):
            errors.append(f"{key} not a string")
    if isinstance(body.get("purpose"), str) and body["purpose"] not in PURPOSES:
        errors.append("purpose not in the enum")
    if "bytes" in body:
        if not _is_integer(body["bytes"], lenient):
            errors.append("bytes not an integer")
        elif not 0 <= body["bytes"] <= UPLOAD_LIMIT:
            errors.append("bytes out of range")
    if "expires_after" in body and not (lenient and body["expires_after"] is None):
        errors += _expires_after_errors(body["expires_after"], lenient)
    return errors


def _expires_after_errors(value: Any, lenient: bool) -> list[str]:
    if not isinstance(value, dict):
        return ["expires_after not an object"]
    errors = []
    if value.get("anchor", None) != "created_at":
        errors.append("anchor wrong or missing")
    seconds = value.get("seconds")
    if not _is_integer(seconds, lenient) or not (
            EXPIRES_AFTER_MIN_S <= seconds <= EXPIRES_AFTER_MAX_S):
        errors.append("seconds wrong or missing")
    return errors


def complete_errors(body: Any, lenient: bool = False) -> list[str]:
    """The rules a complete body breaks (empty when it is valid)."""
    if not isinstance(body, dict):
        return ["body is not an object"]
    errors = [f"unknown field {key}" for key in body if key not in {"part_ids", "md5"}]
    part_ids = body.get("part_ids")
    if not isinstance(part_ids, list) or not all(isinstance(p, str) for p in part_ids):
        errors.append("part_ids missing or not a list of strings")
    md5 = body.get("md5", "")
    if not isinstance(md5, str) and not (lenient and md5 is None):
        errors.append("md5 not a string")
    return errors

