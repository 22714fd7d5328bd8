"""A small, correct, in-memory Uploads API that takes the liberties a wrapper around the
reference emulator cannot take (the emulator refuses them before a wrapper could step in):

- a part that takes the running total past the declared bytes is accepted, and the byte
  count is checked at completion only;
- completion may list a subset of the added parts (when their sizes add up), and may list
  a part twice (its bytes then appear twice);
- zero-byte parts are accepted;
- cancelling a cancelled upload is idempotent;
- every leniency at the edges of the request format is taken (null optionals, 10.0 for an
  integer, JSON without a JSON content type, extra form fields, upper-case md5);
- IDs without the usual prefixes, every refusal 400 (404 for unknown IDs, 413 too large);
- its own test controls (a clock to advance) and the file endpoints.

Everything documented is enforced: limits, expiry, byte count, md5, order, foreign and
unknown parts, states, credentials and the error envelope.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import secrets
import time
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
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
    route_misses,
)


def _view(upload: StoredUpload, now: float) -> dict[str, Any]:
    """The Upload as it is at `now`: a pending upload past its expiry reads as expired."""
    expired = upload.status == "pending" and now >= upload.expires_at
    return upload.as_json("expired" if expired else None)


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise Refusal(400, "The body is not JSON.") from None
    if not isinstance(value, dict):
        raise Refusal(400, "The body must be a JSON object.")
    return value


def _check_create(body: dict[str, Any]) -> None:
    required = {"filename", "purpose", "bytes", "mime_type"}
    if missing := sorted(required - body.keys()):
        raise Refusal(400, f"Missing {missing[0]}.", missing[0])
    if unknown := sorted(body.keys() - required - {"expires_after"}):
        raise Refusal(400, f"Unknown field {unknown[0]}.", unknown[0])
    for name in ("filename", "mime_type"):
        if not isinstance(body[name], str):
            raise Refusal(400, f"{name} must be a string.", name)
    if not isinstance(body["purpose"], str) or body["purpose"] not in PURPOSES:
        raise Refusal(400, "Unknown purpose.", "purpose")
    if not is_integer(body["bytes"]) or not 0 <= body["bytes"] <= UPLOAD_LIMIT:
        raise Refusal(400, "bytes must be an integer from 0 to 8 GiB.", "bytes")
    after = body.get("expires_after")
    if after is not None and not (
            isinstance(after, dict) and set(after) == {"anchor", "seconds"}
            and after["anchor"] == "created_at" and is_integer(after["seconds"])
            and EXPIRES_AFTER_MIN_S <= after["seconds"] <= EXPIRES_AFTER_MAX_S):
        raise Refusal(400, "expires_after is malformed.", "expires_after")


def lenient_app(api_key: str) -> Starlette:
    uploads: dict[str, StoredUpload] = {}
    owner: dict[str, str] = {}  # part ID -> upload ID
    files: dict[str, bytes] = {}
    offset = [0.0]
    numbers = itertools.count(1)

    def now() -> float:
        return time.time() + offset[0]

    def new_id(kind: str) -> str:
        return f"{kind}{next(numbers)}x{secrets.token_hex(6)}"

    def find(upload_id: str, action: str) -> StoredUpload:
        upload = uploads.get(upload_id)
        if upload is None:
            raise Refusal(404, "No such upload.", "upload_id")
        status = _view(upload, now())["status"]
        if status != "pending":
            raise Refusal(400, f"The upload is {status}; it cannot {action}.")
        return upload

    async def create(request: Request) -> Response:
        body = _json_object(await request.body())
        _check_create(body)
        upload = StoredUpload(new_id("U"), body["filename"], body["purpose"],
                              int(body["bytes"]), int(now()))
        uploads[upload.id] = upload
        return JSONResponse(_view(upload, now()))

    async def add_part(request: Request) -> Response:
        upload_id = request.path_params["upload_id"]
        if upload_id not in uploads:
            raise Refusal(404, "No such upload.", "upload_id")
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise Refusal(400, "A part is sent as multipart/form-data.")
        try:
            form = await request.form()
        except Exception:  # the multipart parser's refusals
            raise Refusal(400, "The multipart body cannot be read.") from None
        data = form.get("data")
        if not isinstance(data, UploadFile):
            raise Refusal(400, "A part needs a 'data' file field.", "data")
        if (data.size or 0) > PART_LIMIT:
            raise Refusal(413, "A part holds at most 64 MiB.", "data")
        content = await data.read()
        upload = find(upload_id, "take parts")  # checked again: the state may have moved on
        part_id = new_id("")  # digits and hex only: no prefix at all
        upload.parts[part_id] = content
        owner[part_id] = upload_id
        return JSONResponse(part_object(part_id, upload_id, int(now())))

    async def complete(request: Request) -> Response:
        upload_id = request.path_params["upload_id"]
        if upload_id not in uploads:
            raise Refusal(404, "No such upload.", "upload_id")
        body = _json_object(await request.body())
        if "part_ids" not in body or not body.keys() <= {"part_ids", "md5"}:
            raise Refusal(400, "The body is {part_ids, md5?}.")
        part_ids, md5 = body["part_ids"], body.get("md5")
        if not isinstance(part_ids, list) or not all(isinstance(p, str) for p in part_ids):
            raise Refusal(400, "part_ids is a list of strings.", "part_ids")
        if md5 is not None and not isinstance(md5, str):
            raise Refusal(400, "md5 is a string.", "md5")
        upload = find(upload_id, "be completed")
        if any(owner.get(p) != upload_id for p in part_ids):
            raise Refusal(400, "part_ids lists a part of no such upload.", "part_ids")
        data = b"".join(upload.parts[p] for p in part_ids)
        if len(data) != upload.declared:
            raise Refusal(400, "The listed parts do not add up to the declared bytes.")
        if md5 is not None and md5.lower() != hashlib.md5(data).hexdigest():
            raise Refusal(400, "md5 does not match.", "md5")
        file_id = new_id("F")
        files[file_id] = data
        upload.status = "completed"
        upload.file = file_object(file_id, size=upload.declared, filename=upload.filename,
                                  purpose=upload.purpose, created_at=int(now()),
                                  status="uploaded")
        return JSONResponse(_view(upload, now()))

    async def cancel(request: Request) -> Response:
        await request.body()
        upload = uploads.get(request.path_params["upload_id"])
        if upload is None:
            raise Refusal(404, "No such upload.", "upload_id")
        if upload.status != "cancelled":  # cancelling twice answers the upload again
            find(upload.id, "be cancelled")
            upload.status = "cancelled"
            upload.parts.clear()
        return JSONResponse(_view(upload, now()))

    async def get_file(request: Request) -> Response:
        file_id = request.path_params["file_id"]
        upload = next((u for u in uploads.values() if u.file and u.file["id"] == file_id), None)
        if upload is None or upload.file is None:
            raise Refusal(404, "No such file.", "file_id")
        return JSONResponse(upload.file)

    async def file_content(request: Request) -> Response:
        data = files.get(request.path_params["file_id"])
        if data is None:
            raise Refusal(404, "No such file.", "file_id")
        return Response(data, media_type="application/octet-stream")

    async def controls(request: Request) -> Response:
        return JSONResponse({"object": "test_controls", "now": now()})

    async def advance(request: Request) -> Response:
        seconds = _json_object(await request.body()).get("seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            raise Refusal(400, "seconds is a number >= 0.", "seconds")
        offset[0] += seconds
        return JSONResponse({"object": "test_controls", "now": now()})

    routes = [
        Route("/v1/uploads", guarded(create, api_key), methods=["POST"]),
        Route("/v1/uploads/{upload_id}/parts", guarded(add_part, api_key), methods=["POST"]),
        Route("/v1/uploads/{upload_id}/complete", guarded(complete, api_key), methods=["POST"]),
        Route("/v1/uploads/{upload_id}/cancel", guarded(cancel, api_key), methods=["POST"]),
        Route("/v1/files/{file_id}", guarded(get_file, api_key), methods=["GET"]),
        Route("/v1/files/{file_id}/content", guarded(file_content, api_key), methods=["GET"]),
        Route("/v1/_conformance", guarded(controls, api_key), methods=["GET"]),
        Route("/v1/_conformance/clock/advance", guarded(advance, api_key), methods=["POST"]),
    ]
    # A route missed without the key is refused for the key (401), as every route is.
    return Starlette(routes=routes, exception_handlers=route_misses(api_key=api_key))
