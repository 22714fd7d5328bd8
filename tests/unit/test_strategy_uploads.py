"""Create requests: valid ones pass the rules, invalid ones break one, leniency is open."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings

from conformance.api import SAFE_PURPOSE_MIME_TYPES, UPLOAD_LIMIT
from conformance.requirements import CATALOG
from strategies.uploads import (
    MIME_EXTENSIONS,
    InvalidRequest,
    filenames,
    invalid_create_requests,
    lenient_create_variants,
    unusual_mime_variants,
    valid_create_requests,
)

NO_DB = settings(database=None, max_examples=2000, derandomize=True)  # find(), reproducibly
FIRST_FOUND = settings(NO_DB, phases=[Phase.generate])  # no shrinking: only reachability


@given(valid_create_requests())
def test_valid_requests_follow_every_rule(create_rules: Any, body: dict[str, Any]) -> None:
    assert create_rules(body) == []
    assert (body["purpose"], body["mime_type"]) in SAFE_PURPOSE_MIME_TYPES
    json.dumps(body, allow_nan=False)


@given(valid_create_requests(max_bytes=1000, min_bytes=0))
def test_valid_requests_respect_the_size_bounds(body: dict[str, Any]) -> None:
    assert 0 <= body["bytes"] <= 1000


@given(valid_create_requests())
def test_filenames_are_ordinary_enough(body: dict[str, Any]) -> None:
    name = body["filename"]
    assert name.endswith(MIME_EXTENSIONS[body["mime_type"]])
    assert 1 <= len(name) <= 200
    assert name == name.strip() == unicodedata.normalize("NFC", name)
    assert not any(unicodedata.category(c).startswith("C") for c in name)
    assert not set(name) & set("/\\\"'")


@given(invalid_create_requests())
def test_invalid_requests_break_a_rule_even_read_leniently(
    create_rules: Any, invalid: InvalidRequest
) -> None:
    assert create_rules(invalid.body, lenient=True), invalid.fault
    assert invalid.requirement in CATALOG
    assert invalid.fault
    # Sendable as JSON, without NaN or infinities (those are malformed-body cases).
    json.dumps(invalid.body, allow_nan=False)


@given(invalid_create_requests())
def test_the_size_limit_fault_is_tagged_with_its_requirement(invalid: InvalidRequest) -> None:
    if invalid.fault == "bytes over 8 GiB":
        assert invalid.requirement == "UPLOAD-SIZE-LIMIT"
        assert invalid.body["bytes"] > UPLOAD_LIMIT
    else:
        assert invalid.requirement == "CREATE-INVALID"


@pytest.mark.parametrize(
    "fault",
    [
        "bytes is a boolean",
        "bytes is a string",
        "bytes is negative",
        "bytes over 8 GiB",
        "purpose not in the enum",
        "body is a JSON array",
        "expires_after.seconds below 3600",
        "expires_after.anchor wrong",
    ],
)
def test_the_named_faults_are_generated(fault: str) -> None:
    found = find(invalid_create_requests(), lambda r: r.fault == fault, settings=FIRST_FOUND)
    assert found.fault == fault


def test_an_unknown_field_is_named_in_the_fault() -> None:
    is_unknown_field = lambda r: r.fault.startswith("unknown field")  # noqa: E731
    found = find(invalid_create_requests(), is_unknown_field, settings=FIRST_FOUND)
    (extra,) = set(found.body) - {"filename", "purpose", "bytes", "mime_type", "expires_after"}
    assert found.fault == f"unknown field {extra!r}"


@given(lenient_create_variants())
def test_lenient_variants_are_valid_only_by_a_lenient_reading(
    create_rules: Any, variant: tuple[str, dict[str, Any]]
) -> None:
    description, body = variant
    assert create_rules(body) != [], description
    assert create_rules(body, lenient=True) == [], description


@given(unusual_mime_variants())
def test_unusual_mime_types_are_outside_the_safe_pairs(
    create_rules: Any, variant: tuple[str, dict[str, Any]]
) -> None:
    _, body = variant
    assert create_rules(body) == []
    assert (body["purpose"], body["mime_type"]) not in SAFE_PURPOSE_MIME_TYPES


# Hypothesis's shrinker may stop a step or two short of the minimum on strategies with
# several branches, so these check "small and readable", not one exact value.


def test_valid_requests_shrink_to_a_tiny_plain_request() -> None:
    body = find(valid_create_requests(), lambda b: True, settings=NO_DB)
    # Like {"filename": "a.txt", "purpose": "assistants", "bytes": 1, "mime_type": "text/plain"}.
    assert body["bytes"] <= 4 and "expires_after" not in body
    stem, _ = body["filename"].split(".")
    assert len(stem) == 1 and stem.isalpha()


@pytest.mark.parametrize(
    ("odd", "expected"),
    [
        (lambda name: " " in name, "a a.txt"),
        (lambda name: len(name) > 100, "a" * 150 + ".txt"),
    ],
)
def test_odd_filenames_shrink_readably(odd: Any, expected: str) -> None:
    assert find(filenames(), odd, settings=NO_DB) == expected


def test_invalid_requests_shrink_to_a_short_body() -> None:
    found = find(invalid_create_requests(), lambda r: True, settings=NO_DB)
    # Typically "filename missing" on {"purpose": "assistants", "bytes": 1, ...}.
    assert len(json.dumps(found.body)) <= 100, found
