"""Small Uploads API targets for testing the schema-driven checks: correct ones and faulty ones.

`make_app()` is a correct target that takes the liberties the documentation leaves open
(it reads `10.0` as an integer, `null` as an omitted optional field, a JSON body without a
JSON content type, a `data` form field that is not a file); `make_app(strict=True)` is a
correct target that takes none of them and refuses with 422 instead of 400. A check that
fails either fails a correct target. `make_app(faults={...})` switches on the one
fault in `FAULTS` (the others are the emulator's mutants). `serve(app)` runs an app on a
loopback port.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_KEY = "sk-test"
# Faults are the emulator's mutants (conformance/emulator/mutants/); this one is here only
# because it breaks a SHOULD, and the kill matrix counts MUST failures as kills.
FAULTS = {
    "text-content-type": "successful answers are labelled text/plain",
}

GiB = 1024**3
PART_LIMIT = 64 * 1024 * 1024
PURPOSES = {"assistants", "batch", "fine-tune", "vision", "user_data", "evals"}
CREATE_FIELDS = {"filename", "purpose", "bytes", "mime_type", "expires_after"}


class Refusal(Exception):
    def __init__(self, status: int, message: str, param: str | None = None):
        self.status, self.message, self.param = status, message, param


def _is_int(value: Any) -> bool:
    # JSON Schema counts 10.0 as an integer; so does this target.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


@dataclass
class _Upload:
    id: str
    filename: str
    purpose: str
    size: int  # the declared bytes
    created_at: int
    status: str = "pending"
    parts: dict[str, bytes] = field(default_factory=dict)
    file: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "object": "upload", "bytes": self.size,
                "created_at": self.created_at, "expires_at": self.created_at + 3600,
                "filename": self.filename, "purpose": self.purpose, "status": self.status,
                "file": self.file}


def make_app(faults: frozenset[str] | set[str] = frozenset(),
             api_key: str = API_KEY, strict: bool = False) -> Starlette:
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown faults: {sorted(unknown)}")
    uploads: dict[str, _Upload] = {}
    counter = itertools.count(1)

    def refuse(exc: Refusal) -> Response:
        if strict and exc.status == 400:
            exc.status = 422
        return JSONResponse({"error": {"message": exc.message, "type": "invalid_request_error",
                                       "param": exc.param, "code": None}},
                            status_code=exc.status)

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

    def pending(upload_id: str) -> _Upload:
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
        if not _is_int(declared):
            raise Refusal(400, "bytes must be an integer.", "bytes")
        assert isinstance(declared, (int, float))
        if not 0 <= declared <= 8 * GiB:
            raise Refusal(400, "bytes is out of range.", "bytes")
        expires_after = body.get("expires_after")
        if strict and "expires_after" in body and expires_after is None:
            raise Refusal(400, "expires_after may be omitted, not null.", "expires_after")
        if expires_after is not None:  # null reads as omitted
            if not isinstance(expires_after, dict) or expires_after.get("anchor") != "created_at":
                raise Refusal(400, "expires_after is malformed.", "expires_after")
            seconds = expires_after.get("seconds")
            if not _is_int(seconds) or not 3600 <= cast(float, seconds) <= 2592000:
                raise Refusal(400, "expires_after.seconds is out of range.", "expires_after")
        upload = _Upload(f"upload_{next(counter)}", body["filename"], body["purpose"],
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
        return ok({"id": part_id, "object": "upload.part", "created_at": int(time.time()),
                   "upload_id": upload.id})

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
        if len(data) != upload.size:
            raise Refusal(400, "The parts do not add up to the declared bytes.", "part_ids")
        if md5 is not None and md5.lower() != hashlib.md5(data).hexdigest():
            raise Refusal(400, "md5 does not match.", "md5")
        upload.status = "completed"
        upload.file = {"id": f"file-{next(counter)}", "object": "file", "bytes": upload.size,
                       "created_at": int(time.time()), "filename": upload.filename,
                       "purpose": upload.purpose, "status": "processed"}
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

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            if request.headers.get("authorization") != f"Bearer {api_key}":
                return refuse(Refusal(401, "Missing or wrong API key."))
            try:
                return await handler(request)
            except Refusal as exc:
                return refuse(exc)
        return endpoint

    routes = [
        Route("/v1/uploads", guarded(create), methods=["POST"]),
        Route("/v1/uploads/{upload_id}/parts", guarded(add_part), methods=["POST"]),
        Route("/v1/uploads/{upload_id}/complete", guarded(complete), methods=["POST"]),
        Route("/v1/uploads/{upload_id}/cancel", guarded(cancel), methods=["POST"]),
    ]
    async def no_route(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        return refuse(Refusal(status, f"Invalid URL ({request.method} {request.url.path})."))

    return Starlette(routes=routes, exception_handlers={404: no_route, 405: no_route})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """Run `app` on a free loopback port; yields its base URL (ending in /v1)."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                            lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test target did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
