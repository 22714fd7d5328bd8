"""The proxy as an ASGI app: every request forwarded to the upstream as it came, streamed.

A request's body goes to the upstream chunk by chunk as the client sends it (read from
ASGI `receive`, handed to `httpx.AsyncClient` as an async iterator), and the answer comes
back chunk by chunk the same way, so a 64 MiB part is never held whole. On the way each
body passes a tap (`observe.RequestTap`, `observe.ResponseTap`) that reads what the judge
needs. Nothing is added to the traffic: the client's headers go as they came (less the
hop-by-hop ones, and Host, which names the upstream), httpx's own defaults are taken out
again, and the answer's headers come back as the upstream sent them. Only an upstream that
gives no answer at all gets one of the proxy's (502, with the API's error envelope).

`POST <prefix>/_proxy/report` is answered by the proxy itself (the reports are written),
never forwarded. A fault in observing is logged and the exchange goes on untouched.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

import httpx

from conformance.adapters.sdk_records import SentRequest
from conformance.evidence import Redactor
from conformance.proxy.observe import Observed, RequestTap, ResponseTap, route
from conformance.proxy.spool import Spool

__all__ = ["REPORT_PATH", "Listener", "ProxyApp", "SeenKeys"]

logger = logging.getLogger("conformance.proxy")

REPORT_PATH: Final = "/_proxy/report"  # under the proxy's prefix (/v1)
CONNECT_TIMEOUT_S: Final = 30.0  # reading and writing wait as long as the client does
# RFC 9110 7.6.1: hop-by-hop headers belong to one connection, not to the request.
_HOP_BY_HOP: Final = frozenset({"connection", "keep-alive", "proxy-connection", "te",
                                "trailer", "transfer-encoding", "upgrade", "host"})
# Headers whose value is a credential: scrubbed from every output, like the key.
_CREDENTIAL_HEADERS: Final = ("authorization", "api-key", "x-api-key", "proxy-authorization")


class Listener(Protocol):
    """Who hears of each exchange: the judge and the console (`command.ProxyRun`)."""

    def started(self, observed: Observed) -> None: ...
    def ended(self, observed: Observed) -> None: ...
    def report(self) -> dict[str, Any]: ...


class SeenKeys:
    """The credentials seen in requests so far: every output is scrubbed of them."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self.redactor = Redactor()

    def add(self, headers: Iterable[tuple[str, str]]) -> str:
        """Learns the request's credentials; a digest of them, naming its tenant."""
        found = []
        for name, value in headers:
            if name.lower() in _CREDENTIAL_HEADERS:
                token = value.partition(" ")[2] if " " in value.strip() else value
                found += [v for v in (value.strip(), token.strip()) if v]
        if not set(found) <= self._secrets:
            self._secrets |= set(found)
            self.redactor = Redactor(*self._secrets)
        return hashlib.sha256("\n".join(sorted(found)).encode()).hexdigest()[:16]

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(self._secrets)


class ProxyApp:
    """Forwards to `upstream` (a base URL such as http://127.0.0.1:8000/v1) what comes to
    the proxy under `prefix` (/v1); anything else goes to the upstream's origin as it is."""

    def __init__(self, upstream: str, listener: Listener, spool: Spool, keys: SeenKeys,
                 prefix: str = "/v1", public_base: Callable[[], str] = lambda: "") -> None:
        parts = urlsplit(upstream)
        self.upstream = upstream.rstrip("/")
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.prefix = prefix
        self.listener, self.spool, self.keys = listener, spool, keys
        self.public_base = public_base  # the proxy's own base URL, as the client uses it
        self._numbers = itertools.count(1)
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            if scope["method"] == "POST" and scope["path"] == self.prefix + REPORT_PATH:
                await self._report(send)
            else:
                await self._forward(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # No proxy from the environment, no retries, no redirects followed: the
                # client's requests go to the upstream once, as they are.
                self._client = httpx.AsyncClient(
                    trust_env=False, follow_redirects=False,
                    timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT_S),
                    limits=httpx.Limits(max_connections=None, max_keepalive_connections=64))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _report(self, send: Any) -> None:
        try:
            written = await asyncio.to_thread(self.listener.report)
            status, body = 200, written
        except Exception as error:  # a report that could not be written: said, not raised
            logger.exception("writing the reports failed")
            status, body = 500, _envelope(f"the reports could not be written: {error}")
        await _answer(send, status, body)

    async def _forward(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        tenant = self.keys.add(headers)
        redactor = self.keys.redactor
        lookup = {k.lower(): v for k, v in headers}
        target = (self.upstream + path[len(self.prefix):]) if path.startswith(
            self.prefix + "/") else self.origin + path
        if query:
            target += "?" + query
        shown = f"{self.public_base()}{path}" + (f"?{query}" if query else "")
        sent = SentRequest.observed(method, shown, headers, redactor, None)
        observed = Observed(next(self._numbers), route(method, path, self.prefix), sent,
                            tenant, time.time(), time.monotonic())
        tap = RequestTap(lookup.get("content-type", ""), self.spool)
        left = _Left()
        _safely(self.listener.started, observed)
        response_tap = ResponseTap(hash_content=observed.route.file_id is not None)
        status: int | None = None
        answered: dict[str, str] = {}
        error: str | None = None
        try:
            request = self._request(method, target, headers, lookup,
                                    _body(receive, tap, left))
            assert self._client is not None
            response = await self._client.send(request, stream=True)
        except Exception as failure:
            error = "the client went away" if left.gone else \
                f"the upstream gave no answer: {type(failure).__name__}: {failure}"
            if not left.gone:
                await _answer(send, 502, _envelope(f"uploads-conformance proxy: {error}"))
        else:
            status = response.status_code
            answered = {k: v for k, v in response.headers.multi_items()
                        if k.lower() not in _HOP_BY_HOP}
            error = await self._stream_back(response, response_tap, send)
        part = _safely(tap.finish, sent, redactor, not left.gone)
        observed.part = part
        observed.client_left = left.gone
        _safely(observed.end, status, answered, response_tap, error, time.monotonic(),
                redactor)
        _safely(self.listener.ended, observed)

    def _request(self, method: str, url: str, headers: list[tuple[str, str]],
                 lookup: dict[str, str], body: AsyncIterator[bytes]) -> httpx.Request:
        assert self._client is not None
        connection_named = {h.strip().lower() for h in lookup.get("connection", "").split(",")}
        kept = [(k, v) for k, v in headers
                if k.lower() not in _HOP_BY_HOP and k.lower() not in connection_named]
        streamed = "content-length" in lookup or "chunked" in lookup.get(
            "transfer-encoding", "").lower()
        request = self._client.build_request(method, url, headers=kept,
                                             content=body if streamed else b"")
        # httpx adds its defaults (Accept, User-Agent, ...): the upstream gets only the
        # client's, and what framing needs (Host; chunked when the client sent so).
        allowed = {k.lower() for k, _ in kept} | {"host"}
        if streamed and "content-length" not in lookup:
            allowed.add("transfer-encoding")
        for name in {k for k in request.headers if k.lower() not in allowed}:
            del request.headers[name]
        return request

    @staticmethod
    async def _stream_back(response: httpx.Response, tap: ResponseTap,
                           send: Any) -> str | None:
        """The answer to the client as it comes; why it broke off, if it did."""
        raw = [(k.encode("latin-1"), v.encode("latin-1"))
               for k, v in response.headers.multi_items() if k.lower() not in _HOP_BY_HOP]
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": raw})
        error = None
        try:
            async for chunk in response.aiter_raw():
                _safely(tap.feed, chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except Exception as failure:
            error = f"the upstream's answer broke off: {type(failure).__name__}: {failure}"
        finally:
            await response.aclose()
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return error


class _Left:
    gone = False  # the client went away while its request was under way


async def _body(receive: Any, tap: RequestTap, left: _Left) -> AsyncIterator[bytes]:
    """The request body from ASGI `receive`, each chunk through the tap on its way."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            left.gone = True
            raise ConnectionAbortedError("the client went away before the end of its body")
        chunk = message.get("body", b"")
        if chunk:
            _safely(tap.feed, chunk)
            yield chunk
        if not message.get("more_body", False):
            return


def _safely(call: Callable[..., Any], *args: Any) -> Any:
    """Runs an observer's step; a fault in it is logged, never let near the traffic."""
    try:
        return call(*args)
    except Exception:
        logger.exception("observing an exchange failed (the exchange went through)")
        return None


def _envelope(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "proxy_error", "param": None, "code": None}}


async def _answer(send: Any, status: int, body: Any) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data, "more_body": False})
