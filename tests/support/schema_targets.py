"""Small Uploads API targets for testing the schema-driven checks: correct ones and faulty ones.

`make_app()` is a correct target that takes the liberties the documentation leaves open
(it reads `10.0` as an integer, `null` as an omitted optional field, a JSON body without a
JSON content type, a `data` form field that is not a file); `make_app(strict=True)` is a
correct target that takes none of them and refuses with 422 instead of 400. A check that
fails either fails a correct target. `make_app(faults={...})` switches on the one
fault in `FAULTS` (the others are the emulator's mutants).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from typing import Any, cast

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.facts import (
    EXPIRES_AFTER_MAX_S,
    EXPIRES_AFTER_MIN_S,
    PART_LIMIT,
    PURPOSES,
    UPLOAD_LIMIT,
)
from tests.support.fake_targets import (
    Refusal,
    StoredUpload,
    file_object,
    guarded,
    is_integer,
    part_object,
    refusal_response,
    route_misses,
)

API_KEY = "sk-test"
# Faults are the emulator's mutants (conformance/emulator/mutants/); this one is here only
# because it breaks a SHOULD, and the kill matrix counts MUST failures as kills.
FAULTS = {
    "text-content-type": "successful answers are labelled text/plain",
}

CREATE_FIELDS = {"filename", "purpose", "bytes", "mime_type", "expires_after"}


def make_app(faults: frozenset[str] | set[str] = frozenset(),
             api_key: str = API_KEY, strict: bool = False) -> Starlette:
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown faults: {sorted(unknown)}")
    uploads: dict[str, StoredUpload] = {}
    counter = itertools.count(1)

    def refuse(exc: Refusal) -> Response:
        if strict and exc.status == 400:
            exc.status = 422
        return refusal_response(exc)

    def ok(body: dict[str, Any]) -> Response:
        media_type = "text/plain" if "text-content-type" in faults else "application/json"
        return Response(json.dumps(body), media_type=media_type)

    async def json_body(request: Request) -> Any:
        if strict and request.headers.get("content-type", "").split(";")[0] != "application/json":
            raise Refusal(415, "Send JSON as application/json.")
        raw = await request.body()
        try:
            return json.loads(raw)
        except ValueError:
            raise Refusal(400, "The body is not valid JSON.") from None

    def pending(upload_id: str) -> StoredUpload:
        upload = uploads.get(upload_id)
        if upload is None:
            raise Refusal(404, f"No upload {upload_id!r}.", "upload_id")
        if upload.status != "pending":
            raise Refusal(409, f"The upload is {upload.status}.")
        return upload

    async def create(request: Request) -> Response:
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        if not isinstance(body, dict):
            raise Refusal(400, "The body must be a JSON object.")
        if extra := set(body) - CREATE_FIELDS:
            raise Refusal(400, f"Unknown fields: {sorted(extra)}.")
        for name in ("filename", "mime_type"):
            if not isinstance(body.get(name), str):
                raise Refusal(400, f"{name} must be a string.", name)
        if not isinstance(body.get("purpose"), str) or body["purpose"] not in PURPOSES:
            raise Refusal(400, "purpose is not a known purpose.", "purpose")
        declared = body.get("bytes")
        if not is_integer(declared):
            raise Refusal(400, "bytes must be an integer.", "bytes")
        assert isinstance(declared, (int, float))
        if not 0 <= declared <= UPLOAD_LIMIT:
            raise Refusal(400, "bytes is out of range.", "bytes")
        expires_after = body.get("expires_after")
        if strict and "expires_after" in body and expires_after is None:
            raise Refusal(400, "expires_after may be omitted, not null.", "expires_after")
        if expires_after is not None:  # null reads as omitted
            if not isinstance(expires_after, dict) or expires_after.get("anchor") != "created_at":
                raise Refusal(400, "expires_after is malformed.", "expires_after")
            seconds = expires_after.get("seconds")
            if not is_integer(seconds) or not (
                    EXPIRES_AFTER_MIN_S <= cast(float, seconds) <= EXPIRES_AFTER_MAX_S):
                raise Refusal(400, "expires_after.seconds is out of range.", "expires_after")
        upload = StoredUpload(f"upload_{next(counter)}", body["filename"], body["purpose"],
                              int(declared), int(time.time()))
        uploads[upload.id] = upload
        return ok(upload.as_json())

    async def add_part(request: Request) -> Response:
        upload = pending(request.path_params["upload_id"])
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise Refusal(400, "A part must be sent as multipart/form-data.")
        try:
            form = await request.form()
        except Exception:
            raise Refusal(400, "The multipart body cannot be read.") from None
        data = form.get("data")
        if data is None:
            raise Refusal(400, "The 'data' field is missing.", "data")
        if strict and (not isinstance(data, UploadFile) or len(form) != 1):
            raise Refusal(400, "Send exactly one file field named 'data'.", "data")
        # A plain `data` field is read as the part's bytes: a liberty the docs leave open.
        chunk = await data.read() if isinstance(data, UploadFile) else data.encode()
        if len(chunk) > PART_LIMIT:
            raise Refusal(413, "A part is at most 64 MiB.", "data")
        part_id = f"part_{next(counter)}"
        upload.parts[part_id] = chunk
        return ok(part_object(part_id, upload.id, int(time.time())))

    async def complete(request: Request) -> Response:
        upload = pending(request.path_params["upload_id"])
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        if not isinstance(body, dict) or set(body) - {"part_ids", "md5"}:
            raise Refusal(400, "The body must be {part_ids, md5?}.")
        part_ids, md5 = body.get("part_ids"), body.get("md5")
        if not isinstance(part_ids, list) or not all(isinstance(p, str) for p in part_ids):
            raise Refusal(400, "part_ids must be a list of strings.", "part_ids")
        if strict and "md5" in body and md5 is None:
            raise Refusal(400, "md5 may be omitted, not null.", "md5")
        if md5 is not None and not isinstance(md5, str):
            raise Refusal(400, "md5 must be a string.", "md5")
        if any(p not in upload.parts for p in part_ids):
            raise Refusal(400, "part_ids names a part of no such upload.", "part_ids")
        data = b"".join(upload.parts[p] for p in part_ids)
        if len(data) != upload.declared:
            raise Refusal(400, "The parts do not add up to the declared bytes.", "part_ids")
        if md5 is not None and md5.lower() != hashlib.md5(data).hexdigest():
            raise Refusal(400, "md5 does not match.", "md5")
        upload.status = "completed"
        upload.file = file_object(f"file-{next(counter)}", size=upload.declared,
                                  filename=upload.filename, purpose=upload.purpose,
                                  created_at=int(time.time()), status="processed")
        return ok(upload.as_json())

    async def cancel(request: Request) -> Response:
        upload = uploads.get(request.path_params["upload_id"])
        if upload is None:
            raise Refusal(404, "No such upload.", "upload_id")
        if upload.status == "completed":
            raise Refusal(409, "The upload is completed.")
        if strict and upload.status == "cancelled":
            raise Refusal(409, "The upload is cancelled already.")
        upload.status = "cancelled"  # cancelling twice is idempotent: a legitimate choice
        return ok(upload.as_json())

    routes = [
        Route("/v1/uploads", guarded(create, api_key, refuse), methods=["POST"]),
        Route("/v1/uploads/{upload_id}/parts", guarded(add_part, api_key, refuse),
              methods=["POST"]),
        Route("/v1/uploads/{upload_id}/complete", guarded(complete, api_key, refuse),
              methods=["POST"]),
        Route("/v1/uploads/{upload_id}/cancel", guarded(cancel, api_key, refuse),
              methods=["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers=route_misses(refuse))

