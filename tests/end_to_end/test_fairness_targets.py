"""Fast checks of the fairness tests' own targets, so that a failing CLI run points at the
suite, not at a target that does not do what it claims (the emulator under the variant may
change, for one)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest

from tests.support.broken_targets import stub_app
from tests.support.lenient_target import lenient_app
from tests.support.serving import serve_app
from tests.support.variant_target import VariantApp, VariantOptions

KEY = "sk-fairness-targets-0123456789"
CREATE = {"filename": "a.txt", "purpose": "assistants", "bytes": 6, "mime_type": "text/plain"}


@pytest.fixture(scope="module")
def variant() -> Iterator[httpx.Client]:
    with serve_app(VariantApp(KEY, VariantOptions(serve_files=True)), date_header=False) as url, \
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"},
                         trust_env=False) as client:
        yield client


def test_the_variant_rewrites_ids_both_ways_and_changes_refusal_codes(
        variant: httpx.Client) -> None:
    created = variant.post("/uploads", json=CREATE)
    assert created.status_code == 200 and "date" not in created.headers
    assert created.headers["x-should-retry"] == "false"
    upload = created.json()
    assert upload["id"].startswith("upl-") and "x_vendor" in upload
    parts = [variant.post(f"/uploads/{upload['id']}/parts", files={"data": ("p", data)}).json()
             for data in (b"abc", b"def")]
    assert all(p["id"].startswith("prt.") and p["upload_id"] == upload["id"] for p in parts)

    wrong = variant.post(f"/uploads/{upload['id']}/complete",
                         json={"part_ids": [p["id"] for p in parts], "md5": "0" * 32})
    assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "md5_mismatch"
    assert "x_vendor" in wrong.json() and "x_vendor_hint" in wrong.json()["error"]
    upper = variant.post(f"/uploads/{upload['id']}/complete",
                         json={"part_ids": [p["id"] for p in parts],
                               "md5": hashlib.md5(b"defabc").hexdigest().upper()})
    assert upper.status_code == 422  # this variant reads md5 as lower-case hex only

    done = variant.post(f"/uploads/{upload['id']}/complete",
                        json={"part_ids": [parts[1]["id"], parts[0]["id"], parts[0]["id"]]})
    assert done.status_code == 200, done.text  # a duplicate is read once
    file = done.json()["file"]
    assert file["id"].startswith("F") and file["status"] == "uploaded"
    assert variant.get(f"/files/{file['id']}/content").content == b"defabc"
    again = variant.post(f"/uploads/{upload['id']}/cancel")
    assert again.status_code == 409 and upload["id"] in again.json()["error"]["message"]


def test_the_variant_cancels_idempotently_and_accepts_json_as_text(
        variant: httpx.Client) -> None:
    body = httpx.Request("POST", "http://x", json=CREATE).content
    created = variant.post("/uploads", content=body, headers={"Content-Type": "text/plain"})
    assert created.status_code == 200, created.text
    upload_id = created.json()["id"]
    assert variant.post(f"/uploads/{upload_id}/cancel").json()["status"] == "cancelled"
    twice = variant.post(f"/uploads/{upload_id}/cancel")
    assert twice.status_code == 200 and twice.json()["status"] == "cancelled"
    gone = variant.post(f"/uploads/{upload_id}/parts", files={"data": ("p", b"x")})
    assert gone.status_code == 409
    assert variant.post("/uploads", json={**CREATE, "bytes": 6.0}).status_code == 422


def test_the_lenient_target_checks_the_byte_count_at_completion_only() -> None:
    with serve_app(lenient_app(KEY)) as url, httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {KEY}"}, trust_env=False) as c:
        upload = c.post("/uploads", json={**CREATE, "bytes": 3}).json()
        big = c.post(f"/uploads/{upload['id']}/parts", files={"data": ("p", b"abcd")}).json()
        small = c.post(f"/uploads/{upload['id']}/parts", files={"data": ("p", b"xyz")}).json()
        refused = c.post(f"/uploads/{upload['id']}/complete", json={"part_ids": [big["id"]]})
        assert refused.status_code == 400 and "error" in refused.json()
        done = c.post(f"/uploads/{upload['id']}/complete", json={"part_ids": [small["id"]]})
        assert done.status_code == 200 and done.json()["status"] == "completed"
        assert c.post("/uploads", json=CREATE, headers={"Authorization": "Bearer no"}
                      ).status_code == 401


def test_the_stub_answers_200_whatever_the_state() -> None:
    with serve_app(stub_app()) as url, httpx.Client(base_url=url, trust_env=False) as c:
        upload = c.post("/uploads", json=CREATE).json()
        assert c.post(f"/uploads/{upload['id']}/cancel").status_code == 200
        assert c.post(f"/uploads/{upload['id']}/complete", json={"md5": 1}).status_code == 200
        assert c.post("/uploads/nope/parts", content=b"junk").status_code == 200
