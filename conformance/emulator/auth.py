"""Authentication: every request carries `Authorization: Bearer <api key>`, or gets 401."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import EmulatorConfig
from .errors import ApiError, error_response
from .rules import Rules


class BearerAuth:
    """ASGI middleware checking the Bearer key before any routing (unknown routes too)."""

    def __init__(self, app: ASGIApp, config: EmulatorConfig, rules: Rules) -> None:
        self.app = app
        self._config = config
        self._rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._config.api_key is not None:
            refusal = self._refusal(Headers(scope=scope).get("authorization"))
            if refusal is not None:
                await error_response(refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, authorization: str | None) -> ApiError | None:
        scheme, _, key = (authorization or "").strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return ApiError(401, "You didn't provide an API key. Send it as "
                                 "'Authorization: Bearer YOUR_KEY'.", code="missing_api_key")
        assert self._config.api_key is not None
        if not self._rules.key_matches(key, self._config.api_key):
            return ApiError(401, "Incorrect API key provided.", code="invalid_api_key")
        return None
