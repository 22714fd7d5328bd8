"""A hostile target: the reference emulator behind a switchable fault.

The faults are the ways real servers misbehave at the transport and framing level, those
a CI gate must survive and still end on time: garbage where JSON is due, an HTML error
page, answers of the wrong types, connections reset, a hang, an answer that drips one byte
every two seconds, an endless body, a redirect loop, storms of 5xx and of 429 with a long
Retry-After, a wrong content type, and refusals that echo the caller's Authorization header
back (in the body, in a header, in a Location URL) so that every redaction is tried.

`strikes` says where the fault strikes: "all" requests (the run's first request already
meets it), or only "parts" (the target looks healthy until the suite adds a part, the case
a pre-flight check cannot catch), or "never" (the emulator itself: a baseline to compare).

`python -m tests.support.hostile_target FAULT all|parts|never KEY` serves one on a free port and
prints its base URL (for measuring the suite by hand; see bench/README.md).
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio

from conformance.emulator import EmulatorConfig, create_app
from tests.support.serving import serve_app

__all__ = ["FAULTS", "HostileTarget", "hostile_target"]

HUGE_BYTES = 2 * 1024**3  # what the endless body sends, unless the client stops reading
DRIP_EVERY_S = 2.0
_CHUNK = b"0" * (1 << 16)

Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Fault = Callable[[Scope, Send], Awaitable[None]]


async def _answer(send: Send, status: int, body: bytes, *,
                  content_type: bytes = b"application/json",
                  headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def _error(message: str, kind: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "param": None,
                                 "code": None}}).encode()


async def _garbage_json(scope: Scope, send: Send) -> None:
    await _answer(send, 200, b'{"id": "upload_1", "object": "upload", "bytes": ')


async def _html_error(scope: Scope, send: Send) -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>"
    await _answer(send, 502, page, content_type=b"text/html")


async def _wrong_types(scope: Scope, send: Send) -> None:
    body = {"id": 7, "object": ["upload"], "bytes": "many", "status": None,
            "created_at": "yesterday", "filename": {}, "purpose": 1, "expires_at": "soon"}
    await _answer(send, 200, json.dumps(body).encode())


def _transport(send: Send) -> Any:
    # uvicorn's h11 cycle owns the bound `send` and holds the connection's transport.
    return getattr(getattr(send, "__self__", None), "transport", None)


def _closed(send: Send) -> bool:
    transport = _transport(send)
    return transport is not None and transport.is_closing()


async def _reset(scope: Scope, send: Send) -> None:
    transport = _transport(send)
    if transport is None:
        raise RuntimeError("the reset fault needs uvicorn's h11 protocol")
    sock = transport.get_extra_info("socket")
    if sock is not None:  # linger 0: closing sends a TCP RST, not a FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def _hang(scope: Scope, send: Send) -> None:
    await anyio.sleep_forever()


async def _drip(scope: Scope, send: Send) -> None:
    body = _error("slow", "invalid_request_error")
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    for byte in body:
        if _closed(send):
            return
        await send({"type": "http.response.body", "body": bytes([byte]), "more_body": True})
        await anyio.sleep(DRIP_EVERY_S)
    await send({"type": "http.response.body", "body": b""})


async def _huge_body(scope: Scope, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(HUGE_BYTES).encode())]})
    for _ in range(HUGE_BYTES // len(_CHUNK)):
        if _closed(send):
            return
        await send({"type": "http.response.body", "body": _CHUNK, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _redirect_loop(scope: Scope, send: Send) -> None:
    await _answer(send, 307, b"", headers=((b"location", scope["path"].encode()),))


async def _server_errors(scope: Scope, send: Send) -> None:
    await _answer(send, 503, _error("internal error", "server_error"))


async def _throttled(scope: Scope, send: Send) -> None:
    await _answer(send, 429, _error("rate limited", "rate_limit_error"),
                  headers=((b"retry-after", b"3600"),))


async def _wrong_content_type(scope: Scope, send: Send) -> None:
    await _answer(send, 400, _error("refused", "invalid_request_error"),
                  content_type=b"text/plain")


async def _echo_authorization(scope: Scope, send: Send) -> None:
    echoed = dict(scope["headers"]).get(b"authorization", b"")
    key = echoed.removeprefix(b"Bearer ")
    body = {"error": {"message": f"refused for {echoed.decode('latin-1')}",
                      "type": "invalid_request_error", "param": key.decode("latin-1"),
                      "code": None},
            "request_headers": {k.decode("latin-1"): v.decode("latin-1")
                                for k, v in scope["headers"]}}
    await _answer(send, 400, json.dumps(body).encode(),
                  headers=((b"x-echo-authorization", echoed),
                           (b"location", b"/v1/uploads?api_key=" + key)))


FAULTS: dict[str, Fault] = {
    "garbage-json": _garbage_json,
    "html-error": _html_error,
    "wrong-types": _wrong_types,
    "reset": _reset,
    "hang": _hang,
    "drip": _drip,
    "huge-body": _huge_body,
    "redirect-loop": _redirect_loop,
    "5xx-storm": _server_errors,
    "429-storm": _throttled,
    "wrong-content-type": _wrong_content_type,
    "echo-authorization": _echo_authorization,
}
STRIKES = ("all", "parts", "never")  # never: the emulator itself, a baseline to compare with


class HostileTarget:
    """ASGI: the emulator's answers, except where `fault` strikes; counts its strikes."""

    def __init__(self, fault: str, strikes: str, api_key: str) -> None:
        if strikes not in STRIKES:
            raise ValueError(f"strikes must be one of {STRIKES}")
        self._fault = FAULTS[fault]
        self._strikes = strikes
        self._emulator = create_app(EmulatorConfig(api_key=api_key, test_controls=True))
        self.struck = 0

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        if scope["type"] == "http" and self._strikes_at(scope):
            self.struck += 1
            await self._drain(receive)
            async with anyio.create_task_group() as group:
                # A client that gave up ends the fault: an endless body or a drip must not
                # go on into a closed connection.
                group.start_soon(self._cancel_on_disconnect, receive, group.cancel_scope)
                await self._fault(scope, send)
                group.cancel_scope.cancel()
            return
        await self._emulator(scope, receive, send)

    def _strikes_at(self, scope: Scope) -> bool:
        if self._strikes == "parts":
            return str(scope["path"]).endswith("/parts")
        return self._strikes == "all"

    @staticmethod
    async def _cancel_on_disconnect(receive: Any, scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        scope.cancel()

    @staticmethod
    async def _drain(receive: Any) -> None:
        while True:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body"):
                return


@contextlib.contextmanager
def hostile_target(fault: str, strikes: str, api_key: str) -> Iterator[tuple[str, HostileTarget]]:
    """Serve a hostile target on 127.0.0.1 until the block ends; yields its base URL (…/v1)
    and the app (to ask how often the fault struck)."""
    app = HostileTarget(fault, strikes, api_key)
    with serve_app(app) as url:
        yield url, app


if __name__ == "__main__":
    # python -m tests.support.hostile_target FAULT STRIKES KEY
    with hostile_target(sys.argv[1], sys.argv[2], sys.argv[3]) as (url, _):
        print(url, flush=True)
        threading.Event().wait()
