"""Completing uploads: part order, byte count, md5, the listed parts, and the upload's state."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.emulator_helpers import Api, md5_hex, ok, refused

FILE_ID = re.compile(r"file-[A-Za-z0-9]{24}")


def test_completed_upload_carries_its_file(api: Api) -> None:
    upload_id, part_ids = api.uploaded([b"hello ", b"world"])
    done = ok(api.complete(upload_id, part_ids))
    assert done["id"] == upload_id
    assert done["status"] == "completed"
    file = done["file"]
    # expires_at is optional: absent, not null, for a file that never expires.
    assert set(file) == {"id", "object", "bytes", "created_at", "filename", "purpose",
                         "status"}
    assert FILE_ID.fullmatch(file["id"])
    assert file["object"] == "file"
    assert file["bytes"] == 11
    assert file["filename"] == "data.bin"
    assert file["purpose"] == "assistants"
    assert file["status"] == "processed"
    assert "expires_at" not in file
    assert file["created_at"] >= done["created_at"]
    assert api.content(file["id"]).content == b"hello world"


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (0, 1, 3, 2), (0, 2, 1, 3), (3, 2, 1, 0)])
def test_the_md5_is_checked_in_part_ids_order_whatever_order_the_parts_came_in(
        api: Api, order: tuple[int, ...]) -> None:
    # The md5 is kept up in the order parts are sent: part_ids that follow it for a while
    # (or not at all) must still be judged on the bytes in part_ids order.
    chunks = [b"one-", b"two-" * 70_000, b"three-", b"four" * 70_000]
    upload_id, part_ids = api.uploaded(chunks)
    listed = [part_ids[i] for i in order]
    whole = b"".join(chunks[i] for i in order)
    sent_order = b"".join(chunks)
    if order != (0, 1, 2, 3):
        refused(api.complete(upload_id, listed, md5=md5_hex(sent_order)), 400, code="md5_mismatch")
    done = ok(api.complete(upload_id, listed, md5=md5_hex(whole)))
    assert api.content(done["file"]["id"]).content == whole


def test_part_ids_order_is_the_byte_order(api: Api) -> None:
    chunks = [b"one-", b"two-", b"three-", b"four"]
    upload_id, part_ids = api.uploaded(chunks)
    order = [2, 0, 3, 1]
    done = ok(api.complete(upload_id, [part_ids[i] for i in order]))
    assert api.content(done["file"]["id"]).content == b"".join(chunks[i] for i in order)


def test_byte_count_must_equal_declared_bytes(api: Api) -> None:
    upload = api.new_upload(10)
    part = api.new_part(upload["id"], b"12345")
    refused(api.complete(upload["id"], [part]), 400, code="bytes_mismatch")
    rest = api.new_part(upload["id"], b"67890")
    assert ok(api.complete(upload["id"], [part, rest]))["status"] == "completed"


@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_right_md5_in_either_case_is_accepted(api: Api, case: Any) -> None:
    upload_id, part_ids = api.uploaded([b"abc", b"def"])
    done = ok(api.complete(upload_id, part_ids, md5=case(md5_hex(b"abcdef"))))
    assert done["status"] == "completed"


def test_wrong_md5_is_refused_and_the_upload_stays_pending(api: Api) -> None:
    upload_id, part_ids = api.uploaded([b"abc", b"def"])
    refused(api.complete(upload_id, part_ids, md5=md5_hex(b"abcdeg")), 400,
            code="md5_mismatch")
    # md5 of the parts in the other order is wrong too: the check covers the order.
    refused(api.complete(upload_id, part_ids[::-1], md5=md5_hex(b"abcdef")), 400)
    assert ok(api.complete(upload_id, part_ids, md5=md5_hex(b"abcdef")))["status"] == "completed"


def test_null_md5_is_omitted(api: Api) -> None:
    upload_id, part_ids = api.uploaded([b"abc"])
    assert ok(api.complete(upload_id, part_ids, md5=None))["status"] == "completed"


def test_empty_upload_completes_with_no_parts(api: Api) -> None:
    upload = api.new_upload(0)
    done = ok(api.complete(upload["id"], [], md5=md5_hex(b"")))
    assert done["file"]["bytes"] == 0
    assert api.content(done["file"]["id"]).content == b""


def test_unknown_part_id_is_refused(api: Api) -> None:
    upload_id, part_ids = api.uploaded([b"abc"])
    error = refused(api.complete(upload_id, [*part_ids, "part_unknown0000000000000000"]), 400,
                    code="unknown_part")
    assert error["param"] == "part_ids"


def test_part_of_another_upload_is_refused(api: Api) -> None:
    upload = api.new_upload(6)
    own = api.new_part(upload["id"], b"abc")
    _, foreign = api.uploaded([b"def"])
    refused(api.complete(upload["id"], [own, *foreign]), 400, code="foreign_part")


def test_duplicate_part_ids_are_refused(api: Api) -> None:
    upload = api.new_upload(6)
    part = api.new_part(upload["id"], b"abc")
    refused(api.complete(upload["id"], [part, part]), 400, code="duplicate_part")


def test_subset_of_the_parts_is_refused(api: Api) -> None:
    upload = api.new_upload(6)
    first = api.new_part(upload["id"], b"abc")
    api.new_part(upload["id"], b"def")
    refused(api.complete(upload["id"], [first]), 400, code="missing_parts")


def test_completing_twice_is_refused(api: Api) -> None:
    upload_id, part_ids = api.uploaded([b"abc"])
    ok(api.complete(upload_id, part_ids))
    refused(api.complete(upload_id, part_ids), 400, code="upload_completed")


def test_completing_a_cancelled_upload_is_refused(api: Api) -> None:
    upload_id, part_ids = api.uploaded([b"abc"])
    ok(api.cancel(upload_id))
    refused(api.complete(upload_id, part_ids), 400, code="upload_cancelled")


def test_no_part_after_completion(api: Api) -> None:
    upload_id, part_ids = api.uploaded([b"abc"])
    ok(api.complete(upload_id, part_ids))
    refused(api.add_part(upload_id, b"d"), 400, code="upload_completed")


def test_completing_an_unknown_upload_is_404(api: Api) -> None:
    refused(api.complete("upload_nothere00000000000000000", []), 404, code="upload_not_found")


BAD_COMPLETE_BODIES: dict[str, Any] = {
    "missing part_ids": {},
    "part_ids null": {"part_ids": None},
    "part_ids a string": {"part_ids": "part_abc"},
    "part_ids of numbers": {"part_ids": [1, 2]},
    "part_ids an object": {"part_ids": {"0": "part_abc"}},
    "unknown field": {"part_ids": [], "checksum": "x"},
    "md5 a number": {"part_ids": [], "md5": 5},
    "md5 not hex": {"part_ids": [], "md5": "z" * 32},
    "md5 too short": {"part_ids": [], "md5": "abc"},
    "md5 base64": {"part_ids": [], "md5": "1B2M2Y8AsgTpgAmY7PhCfg=="},
    "md5 a boolean": {"part_ids": [], "md5": True},
}


@pytest.mark.parametrize("body", BAD_COMPLETE_BODIES.values(), ids=BAD_COMPLETE_BODIES.keys())
def test_bad_complete_bodies_are_refused_and_change_nothing(api: Api, body: Any) -> None:
    upload = api.new_upload(0)
    refused(api.http.post(f"/uploads/{upload['id']}/complete", json=body), 400)
    assert ok(api.complete(upload["id"], []))["status"] == "completed"
