"""A request body as it arrives, given up on when it stalls.

A client that stops sending half-way would otherwise hold its connection, and a part's
spool file, for as long as it likes. When no bytes arrive for `stall_timeout` seconds the
body is abandoned: 408 `body_timeout`, sent with `Connection: close` so the server closes
the connection after the answer instead of waiting for the rest of the body.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.requests import ClientDisconnect, Request

from .errors import ApiError

DEFAULT_BODY_TIMEOUT_S = 60.0


async def body_chunks(request: Request, stall_timeout: float | None) -> AsyncIterator[bytes]:
    """The body's chunks; raises ApiError 408 when one takes over `stall_timeout` (None: wait
    for ever), and starlette's ClientDisconnect when the client goes away.

    Starlette's `Request.stream`, read straight off the ASGI channel with a deadline per
    message: a small JSON body is one message, so one cheap asyncio timer per request.
    """
    while True:
        try:
            async with asyncio.timeout(stall_timeout):  # a limit per message: progress
                message = await request.receive()
        except TimeoutError:
            raise body_stalled(stall_timeout) from None
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        if body := message.get("body", b""):
            yield body
        if not message.get("more_body", False):
            return


def body_stalled(stall_timeout: float | None) -> ApiError:
    return ApiError(408, f"No part of the request body arrived for {stall_timeout} seconds; "
                         f"the request was abandoned.", code="body_timeout",
                    headers={"Connection": "close"})
