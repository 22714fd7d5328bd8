"""Refusals: the `ApiError` that every rule raises, and the envelope every error is sent as.

Every error answer - a broken rule, an unknown route, a wrong method, a body too large, an
unexpected exception - is `{"error": {"message", "type", "param", "code"}}` sent as
application/json. The deliberate exceptions: `RawAnswer`, which only a mutant raises, and
the 503 uvicorn itself sends past `max_connections`.
A full disk (or the spool's quota, or SQLite's "database or disk is full") is a 503 with
Retry-After: the request stored nothing, and a retry later may succeed.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("conformance.emulator")

INVALID_REQUEST = "invalid_request_error"
SERVER_ERROR = "server_error"
DISK_FULL_RETRY_AFTER_S = 30


class ApiError(Exception):
    """A refusal: raised anywhere, answered with the error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str = INVALID_REQUEST,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.type = type
        self.headers = dict(headers or {})


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def not_found(message: str, *, param: str | None = None, code: str = "not_found") -> ApiError:
    return ApiError(404, message, param=param, code=code)


def too_large(message: str, *, param: str | None = None, code: str) -> ApiError:
    return ApiError(413, message, param=param, code=code)


def disk_full() -> ApiError:
    return ApiError(503, "The server's storage is full; nothing of this request was stored. "
                         "Retry later.", type=SERVER_ERROR, code="insufficient_storage",
                    headers={"Retry-After": str(DISK_FULL_RETRY_AFTER_S)})


def is_disk_full(error: BaseException) -> bool:
    """Whether `error` (or what it was raised from) is a write that found no space."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        exc = pending.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
            return True  # SQLITE_FULL: "database or disk is full"
        pending += [exc.__cause__, exc.__context__,
                    *getattr(exc, "exceptions", ())]  # an ExceptionGroup's members
    return False


class RawAnswer(Exception):
    """An error answered with `body` as it is, without the envelope (only a mutant's)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def error_response(error: ApiError) -> JSONResponse:
    body = {
        "error": {
            "message": error.message,
            "type": error.type,
            "param": error.param,
            "code": error.code,
        }
    }
    return JSONResponse(body, status_code=error.status, headers=error.headers)


async def on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    """The router's own refusals (unknown route, wrong method), wrapped in the envelope."""
    assert isinstance(exc, HTTPException)
    where = f"{request.method} {request.url.path}"
    if exc.status_code == 404:
        error = ApiError(404, f"Unknown request URL: {where}.", code="unknown_url")
    elif exc.status_code == 405:
        error = ApiError(405, f"Method not allowed: {where}.", code="method_not_allowed")
    else:
        error = ApiError(exc.status_code, str(exc.detail))
    error.headers.update(exc.headers or {})
    return error_response(error)


async def on_raw_answer(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RawAnswer)
    return JSONResponse(exc.body, status_code=exc.status)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ApiError: on_api_error,
    HTTPException: on_http_exception,
    RawAnswer: on_raw_answer,
}


class CatchServerErrors:
    """Outermost middleware: any unexpected exception becomes a 500 envelope.

    Starlette's own ServerErrorMiddleware re-raises after answering, which makes the server
    log every fault twice; this one answers, logs once, and keeps serving.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            full = is_disk_full(exc)
            if full:
                logger.warning("no space to store %s %s: %s", scope["method"], scope["path"],
                               exc)
            else:
                logger.exception("unexpected error answering %s %s", scope["method"],
                                 scope["path"])
            if started:
                raise  # too late for an envelope; the server closes the connection
            error = disk_full() if full else ApiError(
                500, "The server had an error processing your request.", type=SERVER_ERROR,
                code="internal_error")
            await error_response(error)(scope, receive, send)
