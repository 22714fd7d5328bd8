"""Authentication: every request carries `Authorization: Bearer <api key>`, or gets 401.

Each accepted key is its own tenant. The middleware puts the tenant of the key a request
carries in its scope (`tenant_of` reads it back); the service and the file store answer
for another tenant's upload or file as for one that never existed. A tenant is named by
a digest of its key, never the key itself, since the name is kept (SQLite, with a data
dir); the first key's tenant is "", the tenant of everything made without authentication
or before there were several keys.
"""

from __future__ import annotations

import hashlib

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import EmulatorConfig
from .errors import ApiError, error_response
from .rules import Rules

NO_TENANT = ""  # the first key's tenant, and everyone's when authentication is off
_SCOPE_KEY = "uploads_emulator.tenant"


def tenant_name(api_key: str) -> str:
    """The tenant of a key after the first: a digest, so that no key is ever stored."""
    return "key-" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


def tenant_of(scope: Scope) -> str:
    """The tenant of the key this request was let in with."""
    return str(scope.get(_SCOPE_KEY, NO_TENANT))


class BearerAuth:
    """ASGI middleware checking the Bearer key before any routing (unknown routes too)."""

    def __init__(self, app: ASGIApp, config: EmulatorConfig, rules: Rules) -> None:
        self.app = app
        self._config = config
        self._rules = rules
        self._tenants = [(key, NO_TENANT if n == 0 else tenant_name(key))
                         for n, key in enumerate(config.api_keys)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._tenants:
            tenant = self._tenant(Headers(scope=scope).get("authorization"))
            if isinstance(tenant, ApiError):
                await error_response(tenant)(scope, receive, send)
                return
            scope = {**scope, _SCOPE_KEY: tenant}
        await self.app(scope, receive, send)

    def _tenant(self, authorization: str | None) -> str | ApiError:
        """The tenant of the presented key, or the 401 refusal."""
        scheme, _, key = (authorization or "").strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return ApiError(401, "You didn't provide an API key. Send it as "
                                 "'Authorization: Bearer YOUR_KEY'.", code="missing_api_key")
        # Every key is compared, matched or not, so the time taken says nothing of which.
        matches = [tenant for expected, tenant in self._tenants
                   if self._rules.key_matches(key, expected)]
        if not matches:
            return ApiError(401, "Incorrect API key provided.", code="invalid_api_key")
        return matches[0]
