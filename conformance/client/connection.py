"""How requests reach a target besides its URL and key: what real OpenAI-compatible servers
and the gateways before them ask for.

    Connection.parse(headers=["OpenAI-Organization:org-1"], query=["api-version=2024-10-21"],
                     auth_header="api-key", cacert=Path("ca.pem"))

Every request of the suite's (its own client, the schema checks, the pre-flight check) goes
out with the extra headers and query parameters, the key in `auth_header` (by default
`Authorization: Bearer KEY`), and TLS verified against `cacert` (or not at all, `insecure`),
through `proxy` when one is given. `secrets()` is what must be scrubbed besides the key:
every extra header's value (they are usually credentials), a query value whose name says
it is one, and a proxy's password.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

__all__ = ["DIRECT", "Connection"]

BEARER = "Authorization"
# A header name as RFC 9110 allows it (a token).
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_SECRET_QUERY = re.compile(r"key|token|secret|sig|password|auth|credential", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Connection:
    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()
    auth_header: str | None = None  # None: Authorization: Bearer KEY; else NAME: KEY
    cacert: Path | None = None
    insecure: bool = False
    proxy: str | None = None

    @classmethod
    def parse(cls, *, headers: Iterable[str] = (), query: Iterable[str] = (),
              auth_header: str | None = None, cacert: Path | None = None,
              insecure: bool = False, proxy: str | None = None) -> Connection:
        """From the command line's forms; ValueError (one line, no value in it: a value may
        be a secret) when one is malformed."""
        pairs = tuple(_header(given) for given in headers)
        params = tuple(_parameter(given) for given in query)
        if auth_header is not None and not _TOKEN.fullmatch(auth_header):
            raise ValueError(f"--auth-header must be a header name, not {auth_header!r}")
        if cacert is not None and insecure:
            raise ValueError("give --cacert or --insecure, not both")
        if cacert is not None and not cacert.is_file():
            raise ValueError(f"the CA bundle {cacert} does not exist")
        if proxy is not None and urlsplit(proxy).scheme not in ("http", "https"):
            raise ValueError("--proxy must be an http:// or https:// URL")
        return cls(pairs, params, auth_header, cacert, insecure, proxy)

    def auth(self, key: str) -> tuple[str, str]:
        """The header that carries `key`."""
        if self.auth_header is None or self.auth_header.lower() == BEARER.lower():
            return BEARER, f"Bearer {key}"
        return self.auth_header, key

    @property
    def auth_name(self) -> str:
        return self.auth_header or BEARER

    def secrets(self) -> tuple[str, ...]:
        found = [value for _, value in self.headers]
        found += [value for name, value in self.query if _SECRET_QUERY.search(name)]
        if self.proxy is not None and urlsplit(self.proxy).password:
            found.append(str(urlsplit(self.proxy).password))
        return tuple(found)

    def url(self, url: str) -> str:
        """`url` with the extra query parameters after its own."""
        if not self.query:
            return url
        parts = urlsplit(url)
        extra = urlencode(self.query)
        return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query
                                         else extra))

    def verify(self) -> ssl.SSLContext | bool:
        if self.insecure:
            return False
        if self.cacert is not None:
            return ssl.create_default_context(cafile=str(self.cacert))
        return True

    def httpx_proxy(self) -> httpx.Proxy | None:
        return httpx.Proxy(self.proxy) if self.proxy is not None else None



DIRECT: Final = Connection()  # no extra header, parameter, CA or proxy: the defaults


def _header(given: str) -> tuple[str, str]:
    name, colon, value = given.partition(":")
    name = name.strip()
    if not colon or not _TOKEN.fullmatch(name):
        # What was given is not shown: it may hold a secret.
        raise ValueError("--header must be NAME:VALUE, NAME a header name such as "
                         "OpenAI-Organization")
    return name, value.strip()


def _parameter(given: str) -> tuple[str, str]:
    name, equals, value = given.partition("=")
    if not equals or not name:
        raise ValueError("--query must be NAME=VALUE, e.g. api-version=2024-10-21")
    return name, value
