"""What the tests' fake Uploads API targets are built from: the OpenAI error envelope, the
three objects, the API-key guard and the router's own refusals in the envelope (the API's
facts are in `tests.support.facts`).

Built from it, each with its own behaviour: `schema_targets` (correct targets, lenient and
strict, and one SHOULD fault), `lenient_target` (a correct target taking the liberties a
wrapper around the emulator cannot), `broken_targets` (one fault each) and `variant_target`
(the emulator behind a wrapper that chooses differently where the documentation leaves it
free). Serve any of them with `tests.support.serving.serve_app`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.support.facts import LIFETIME_S

Endpoint = Callable[[Request], Awaitable[Response]]


def is_integer(value: Any) -> bool:
    """An integer as JSON Schema reads one: `10.0` is one, `True` is not."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def envelope(message: str, *, param: str | None = None, code: str | None = None,
             type: str = "invalid_request_error", **extra: Any) -> dict[str, Any]:
    """The OpenAI error envelope; `extra` keys go inside `error`, after its four."""
    return {"error": {"message": message, "type": type, "param": param, "code": code,
                      **extra}}


class Refusal(Exception):
    """A handler's refusal: raised, then answered as the envelope with `status`."""

    def __init__(self, status: int, message: str, param: str | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code


Refuse = Callable[[Refusal], Response]


def refusal_response(refusal: Refusal) -> JSONResponse:
    return JSONResponse(envelope(refusal.message, param=refusal.param, code=refusal.code),
                        status_code=refusal.status)


def guarded(handler: Endpoint, api_key: str, refuse: Refuse = refusal_response) -> Endpoint:
    """`handler` behind the API key: a request without `Bearer api_key` is refused with 401
    (its body read first); a `Refusal` the handler raises is answered by `refuse`."""

    async def endpoint(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {api_key}":
            await request.body()
            return refuse(Refusal(401, "Missing or wrong API key."))
        try:
            return await handler(request)
        except Refusal as refusal:
            return refuse(refusal)

    return endpoint


def route_misses(refuse: Refuse = refusal_response, *, status: int | None = None,
                 code: str | None = None, api_key: str | None = None
                 ) -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    """Starlette exception handlers for the router's own refusals (no such route, a method
    the route does not take), answered in the envelope: with the router's status or
    `status`, and with 401 instead when `api_key` is given and the request lacks it."""

    async def missed(request: Request, exc: Exception) -> Response:
        answer = status or getattr(exc, "status_code", 404)
        if api_key is not None and request.headers.get("authorization") != f"Bearer {api_key}":
            answer = 401
        return refuse(Refusal(answer, f"Unknown URL: {request.method} {request.url.path}.",
                              code=code))

    return {404: missed, 405: missed}


# --- the objects ------------------------------------------------------------------------


def upload_object(upload_id: str, *, declared: Any, filename: str, purpose: str,
                  created_at: int, status: str, file: dict[str, Any] | None = None
                  ) -> dict[str, Any]:
    return {"id": upload_id, "object": "upload", "bytes": declared, "created_at": created_at,
            "expires_at": created_at + LIFETIME_S, "filename": filename, "purpose": purpose,
            "status": status, "file": file}


def part_object(part_id: str, upload_id: str, created_at: int) -> dict[str, Any]:
    return {"id": part_id, "object": "upload.part", "created_at": created_at,
            "upload_id": upload_id}


def file_object(file_id: str, *, size: int, filename: str, purpose: str, created_at: int,
                status: str) -> dict[str, Any]:
    """The File a completion makes (`status` is left open by the documentation)."""
    return {"id": file_id, "object": "file", "bytes": size, "created_at": created_at,
            "filename": filename, "purpose": purpose, "status": status}


@dataclass
class StoredUpload:
    """An upload as an in-memory target keeps it: what was declared, and the parts by ID."""

    id: str
    filename: str
    purpose: str
    declared: int
    created_at: int
    status: str = "pending"
    parts: dict[str, bytes] = field(default_factory=dict)
    file: dict[str, Any] | None = None

    @property
    def expires_at(self) -> int:
        return self.created_at + LIFETIME_S

    def as_json(self, status: str | None = None) -> dict[str, Any]:
        """The Upload object; `status` when the target reads another one (expired) now."""
        return upload_object(self.id, declared=self.declared, filename=self.filename,
                             purpose=self.purpose, created_at=self.created_at,
                             status=status or self.status, file=self.file)
