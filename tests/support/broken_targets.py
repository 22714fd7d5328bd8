"""Deliberately broken Uploads API targets, one fault each, for the fairness tests.

- `stub_app`: the classic stub seen in real emulators: every POST answers 200 with a
  made-up object whatever the upload's state, the request's validity or the credentials.
- `garbage_app`: every request answers 200 with a body that is not JSON (an HTML page that
  even echoes the caller's Authorization header, to test the reports' redaction).
- `wrong_types_app`: well-shaped answers with the wrong types (`bytes` as a string), parts
  answered with JSON cut short, completions whose body is shorter than its Content-Length.
- `resetting_app`: the reference emulator, except that a part request gets its connection
  reset (TCP RST) instead of an answer.

Unreachable and hanging targets are sockets, not apps: see `tests.support.serving`. The
envelope and the objects come from `tests.support.fake_targets`.
"""

from __future__ import annotations

import itertools
import json
import socket
import struct
import time
from collections.abc import MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.emulator import EmulatorConfig, create_app
from tests.support.fake_targets import (
    Refusal,
    file_object,
    part_object,
    refusal_response,
    route_misses,
    upload_object,
)

Scope = dict[str, Any]


def _made_up_upload(number: int, body: Any, status: str = "pending") -> dict[str, Any]:
    body = body if isinstance(body, dict) else {}
    return upload_object(
        f"upload_stub{number:06d}",
        declared=body.get("bytes", 0) if isinstance(body.get("bytes"), int) else 0,
        filename=str(body.get("filename", "file.bin")),
        purpose=str(body.get("purpose", "assistants")), created_at=int(time.time()),
        status=status)


async def _json_or_none(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _not_found(request: Request) -> JSONResponse:
    return refusal_response(Refusal(404, f"Unknown URL: {request.method} {request.url.path}.",
                                    code="unknown_url"))


# The router's own refusals (no route, wrong method) in the envelope, as 404.
_HANDLERS = route_misses(status=404, code="unknown_url")


def stub_app() -> Starlette:
    """Every POST: 200 and a plausible object. It remembers uploads only to echo them."""
    uploads: dict[str, dict[str, Any]] = {}
    numbers = itertools.count(1)

    async def create(request: Request) -> Response:
        upload = _made_up_upload(next(numbers), await _json_or_none(request))
        uploads[upload["id"]] = upload
        return JSONResponse(upload)

    def known(upload_id: str) -> dict[str, Any]:
        return uploads.get(upload_id) or {**_made_up_upload(0, {}), "id": upload_id}

    async def add_part(request: Request) -> Response:
        await request.body()
        return JSONResponse(part_object(f"part_stub{next(numbers):06d}",
                                        request.path_params["upload_id"], int(time.time())))

    async def complete(request: Request) -> Response:
        await request.body()
        upload = known(request.path_params["upload_id"])
        upload.update(status="completed", file=file_object(
            f"file-stub{next(numbers):06d}", size=upload["bytes"], filename=upload["filename"],
            purpose=upload["purpose"], created_at=int(time.time()), status="processed"))
        return JSONResponse(upload)

    async def cancel(request: Request) -> Response:
        await request.body()
        upload = known(request.path_params["upload_id"])
        upload["status"] = "cancelled"
        return JSONResponse(upload)

    async def anything_else(request: Request) -> Response:
        await request.body()
        return _not_found(request)

    return Starlette(routes=[
        Route("/v1/uploads", create, methods=["POST"]),
        Route("/v1/uploads/{upload_id}/parts", add_part, methods=["POST"]),
        Route("/v1/uploads/{upload_id}/complete", complete, methods=["POST"]),
        Route("/v1/uploads/{upload_id}/cancel", cancel, methods=["POST"]),
        Route("/{path:path}", anything_else, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ], exception_handlers=_HANDLERS)


class GarbageApp:
    """200 and an HTML page for every request (any path, any method), echoing the
    Authorization header. A bare ASGI app: no router that could answer 404 on its own."""

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        request = Request(scope, receive)
        await request.body()
        echoed = request.headers.get("authorization", "none")
        page = Response(f"<html><body>OK, {echoed}</body></html>\n", media_type="text/html",
                        headers={"x-echo-authorization": echoed})
        await page(scope, receive, send)


def garbage_app() -> GarbageApp:
    return GarbageApp()


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class _ShortBody(Response):
    """A JSON answer whose Content-Length promises more than is sent (cut by the transport)."""

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(self.body) * 2).encode())]})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


def wrong_types_app() -> Starlette:
    """Uploads with `bytes` as a string; parts as truncated JSON; short completion bodies."""
    numbers = itertools.count(1)

    async def create(request: Request) -> Response:
        upload = _made_up_upload(next(numbers), await _json_or_none(request))
        upload["bytes"] = str(upload["bytes"])  # "10", not 10
        return JSONResponse(upload)

    async def add_part(request: Request) -> Response:
        await request.body()
        whole = json.dumps(part_object(f"part_bad{next(numbers):06d}",
                                       request.path_params["upload_id"], int(time.time())))
        return Response(whole[: len(whole) // 2], media_type="application/json")

    async def finish(request: Request) -> Response:
        await request.body()
        upload = _made_up_upload(next(numbers), {}, status="completed")
        upload["id"] = request.path_params["upload_id"]
        return _ShortBody(json.dumps(upload).encode())

    async def anything_else(request: Request) -> Response:
        await request.body()
        return _not_found(request)

    return Starlette(routes=[
        Route("/v1/uploads", create, methods=["POST"]),
        Route("/v1/uploads/{upload_id}/parts", add_part, methods=["POST"]),
        Route("/v1/uploads/{upload_id}/complete", finish, methods=["POST"]),
        Route("/v1/uploads/{upload_id}/cancel", finish, methods=["POST"]),
        Route("/{path:path}", anything_else, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ], exception_handlers=_HANDLERS)


class ResetParts:
    """ASGI middleware: a request to .../parts gets its TCP connection reset, unanswered."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.resets = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/parts"):
            # uvicorn's h11 cycle is the bound `send`'s owner; it holds the transport.
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is not None:
                sock = transport.get_extra_info("socket")
                if sock is not None:  # linger 0: close() sends RST, not FIN
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
                transport.abort()
                self.resets += 1
                return
        await self.app(scope, receive, send)


def resetting_app(api_key: str) -> ResetParts:
    """The reference emulator (test controls on), resetting every part request."""
    return ResetParts(create_app(EmulatorConfig(api_key=api_key, test_controls=True)))
