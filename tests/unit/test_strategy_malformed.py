"""Malformed requests really are invalid (or, for the lenient ones, open); odd IDs are URL-safe."""

from __future__ import annotations

import email.parser
import json
import re
from typing import Any
from urllib.parse import unquote

import httpx
from hypothesis import find, given, settings

from conformance.requirements import CATALOG
from strategies.malformed import (
    OddId,
    RawRequest,
    lenient_multipart_requests,
    malformed_json_requests,
    malformed_multipart_requests,
    odd_ids,
    unknown_upload_ids,
)

NO_DB = settings(database=None, max_examples=2000, derandomize=True)  # find(), reproducibly
SLOW = settings(deadline=None)  # bodies of up to 200 KB, on a busy machine


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: RawRequest) -> tuple[bool, Any]:
    """(True, value) when the body is strict JSON sent as JSON; (False, None) otherwise."""
    if raw.content_type != "application/json":
        return False, None
    try:
        text = raw.body.decode("utf-8", errors="strict")
        return True, json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False, None


@SLOW
@given(malformed_json_requests())
def test_malformed_json_requests_are_invalid(
    create_rules: Any, complete_rules: Any, raw: RawRequest
) -> None:
    assert raw.operation in ("create", "complete")
    assert raw.requirement in CATALOG
    parsed, value = parse_json(raw)
    if parsed:  # well-formed JSON: it must then break the request rules, even read leniently
        rules = create_rules if raw.operation == "create" else complete_rules
        assert rules(value, lenient=True), raw.description


def multipart_data_fields(raw: RawRequest) -> list[tuple[str | None, bytes]]:
    """The (filename, content) of each `data` field a strict multipart parser finds."""
    if raw.content_type is None or not re.match(
        r"multipart/form-data;\s*boundary=", raw.content_type
    ):
        return []
    head = f"Content-Type: {raw.content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser().parsebytes(head + raw.body)
    if message.defects or not message.is_multipart():
        return []
    fields = []
    for part in message.get_payload():
        if part.get_param("name", header="content-disposition") == "data":
            fields.append((part.get_filename(), part.get_payload(decode=True)))
    return fields


@given(malformed_multipart_requests())
def test_malformed_multipart_requests_carry_no_data_file(raw: RawRequest) -> None:
    assert raw.operation == "add_part" and raw.requirement == "PART-INVALID"
    assert multipart_data_fields(raw) == []


@given(lenient_multipart_requests())
def test_lenient_multipart_requests_do_carry_data(raw: RawRequest) -> None:
    assert raw.requirement == "OPEN-LENIENCY"
    fields = multipart_data_fields(raw)
    assert fields and all(content for _, content in fields)


def test_the_multipart_parser_of_this_test_finds_a_good_part() -> None:
    good = RawRequest(
        "ok",
        "add_part",
        "multipart/form-data; boundary=b",
        (
            b'--b\r\nContent-Disposition: form-data; name="data"; filename="p.bin"\r\n\r\n'
            b"hello\r\n--b--\r\n"
        ),
        "PART-VALID",
    )
    assert multipart_data_fields(good) == [("p.bin", b"hello")]


@given(odd_ids())
def test_odd_ids_fit_in_one_url_path_segment(odd: OddId) -> None:
    segment = odd.path_segment
    assert re.fullmatch(r"(?:[A-Za-z0-9_~-]|%[0-9A-F]{2})+", segment)
    assert unquote(segment) == odd.raw
    url = httpx.URL(f"http://target.test/v1/uploads/{segment}/cancel")
    assert url.raw_path.decode() == f"/v1/uploads/{segment}/cancel"  # no normalisation


def test_odd_ids_include_path_tricks() -> None:
    found = find(odd_ids(), lambda odd: odd.raw == "..", settings=NO_DB)
    assert found.path_segment == "%2E%2E"


@given(unknown_upload_ids())
def test_unknown_upload_ids_look_issued(upload_id: str) -> None:
    assert re.fullmatch(r"upload_[a-z0-9]{8,24}", upload_id), upload_id
