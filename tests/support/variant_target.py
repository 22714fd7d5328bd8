"""A legitimately different, correct Uploads API target: the reference emulator behind an ASGI
wrapper that makes other choices wherever the documentation leaves them open.

The emulator is never modified: `VariantApp` sits in front of `create_app(...)` and changes
only what a conformant implementation is free to choose (docs/rules.md, "Left open"):

- refusal codes: validation 422, state conflicts 409, an expired upload 410, a body too
  large 400 (the emulator says 400, 400, 400 and 413); `type` follows the code;
- extra fields in every object: Upload, UploadPart, File and the error envelope (inside
  `error` and beside it) carry vendor keys; the nested File's status is `uploaded`;
- ID formats: `upload_X` <-> `upl-X`, `part_X` <-> `prt.X`, `file-X` <-> `FX`, rewritten in
  every answer (messages included) and mapped back in request paths and in `part_ids`;
- headers: `x-should-retry: false` on every answer, no `Date`, no `Server`;
- optional: GET /files/* not served (a 404 envelope); no test controls;
- leniency and strictness at the edges: `null` for `md5` / `expires_after`, `10.0` for an
  integer, an upper-case md5 and an empty upload (`bytes: 0` at create) are refused (the
  emulator accepts them), a JSON body sent without a JSON content type is accepted (the
  emulator refuses it), duplicate IDs in `part_ids` are accepted and read once, cancelling a
  cancelled upload is idempotent.

Not covered, because a wrapper cannot make it legal: completion with a subset of the added
parts (the emulator refuses it, and only a different store could accept it), zero-byte
parts and parts that overflow the declared size (refused by the emulator at once).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from conformance.emulator import EmulatorConfig, create_app
from tests.support.fake_targets import envelope

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

VARIANT_API_KEY = "sk-fairness-variant-0123456789abcdef"

# The emulator's refusal codes (its README), grouped by the status this variant answers with.
VALIDATION_CODES = frozenset({
    "missing_required_parameter", "unknown_parameter", "invalid_type", "invalid_value",
    "upload_too_large", "unsupported_mime_type", "invalid_json", "missing_body",
    "unsupported_content_type", "invalid_multipart", "duplicate_parameter", "empty_part",
})
STATE_CODES = frozenset({
    "upload_completed", "upload_cancelled", "upload_bytes_exceeded", "bytes_mismatch",
    "md5_mismatch", "unknown_part", "foreign_part", "duplicate_part", "missing_parts",
})
EXPIRED_CODES = frozenset({"upload_expired"})
TOO_LARGE_CODES = frozenset({"part_too_large", "request_too_large"})
ERROR_TYPES = {409: "conflict_error", 410: "gone_error", 422: "validation_error",
               400: "invalid_request_error"}

# Emulator ID prefixes and this variant's, for the same 24 characters.
ID_PREFIXES = {"upload_": "upl-", "part_": "prt.", "file-": "F"}
_EMULATOR_ID = re.compile(r"(?<![A-Za-z0-9])(upload_|part_|file-)[A-Za-z0-9]{24}(?![A-Za-z0-9])")
_TOKEN = re.compile(rb"[A-Za-z0-9_.~\-]+")
_API_OBJECTS = frozenset({"upload", "upload.part", "file"})
_BODY_BUFFER_CAP = 4 * 1024 * 1024  # JSON bodies the wrapper reads whole; larger pass through


@dataclass(frozen=True)
class VariantOptions:
    """Which liberties the variant takes (every one of them legitimate)."""

    test_controls: bool = True  # offer the emulator's clock controls
    serve_files: bool = False  # GET /files/{id} and /content (404 envelope when False)
    strict_edges: bool = True  # refuse null optionals, 10.0 integers, upper-case md5, 0 bytes
    lenient_content_type: bool = True  # accept a JSON body sent as text/plain (or untyped)
    dedupe_part_ids: bool = True  # accept duplicates in part_ids, reading each part once
    idempotent_cancel: bool = True  # cancelling a cancelled upload answers it again, 200


class IdCodec:
    """Emulator IDs <-> variant IDs, for the IDs the emulator has issued (no others)."""

    def __init__(self) -> None:
        self.to_variant_ids: dict[str, str] = {}
        self.to_emulator_ids: dict[str, str] = {}

    def learn(self, emulator_id: Any) -> None:
        if not isinstance(emulator_id, str) or emulator_id in self.to_variant_ids:
            return
        match = _EMULATOR_ID.fullmatch(emulator_id)
        if match is None:
            return
        prefix = match.group(1)
        variant = ID_PREFIXES[prefix] + emulator_id[len(prefix):]
        self.to_variant_ids[emulator_id] = variant
        self.to_emulator_ids[variant] = emulator_id

    def text_to_variant(self, text: str) -> str:
        return _EMULATOR_ID.sub(lambda m: self.to_variant_ids.get(m.group(0), m.group(0)), text)

    def id_to_emulator(self, variant_id: str) -> str:
        return self.to_emulator_ids.get(variant_id, variant_id)

    def bytes_to_emulator(self, body: bytes) -> bytes:
        def swap(match: re.Match[bytes]) -> bytes:
            token = match.group(0).decode("ascii")
            return self.to_emulator_ids.get(token, token).encode("ascii")

        return _TOKEN.sub(swap, body)


class VariantApp:
    """The ASGI wrapper; see the module's docstring for what it changes."""

    def __init__(self, api_key: str = VARIANT_API_KEY,
                 options: VariantOptions | None = None) -> None:
        self.options = options or VariantOptions()
        self.api_key = api_key
        self.inner = create_app(EmulatorConfig(api_key=api_key,
                                               test_controls=self.options.test_controls))
        self.ids = IdCodec()
        self.uploads: dict[str, dict[str, Any]] = {}  # last Upload answer, by emulator ID
        self.answers = 0

    # --- the ASGI entry point -------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        self.answers += 1
        scope = dict(scope)
        segments = scope["path"].split("/")
        mapped = [self.ids.id_to_emulator(s) for s in segments]
        if mapped != segments:
            scope["path"] = "/".join(mapped)
            scope["raw_path"] = "/".join(quote(s, safe="") for s in mapped).encode("ascii")
        path, method = scope["path"], scope["method"]
        authorized = self._authorized(scope)
        kind = _operation(method, path)

        if authorized and not self.options.serve_files and (
                path == "/v1/files" or path.startswith("/v1/files/")):
            await self._drain(receive)
            await self._refuse(send, 404, f"Unknown request URL: {method} {scope['path']}.",
                               code="unknown_url", param=None)
            return

        if kind in ("create", "complete", "cancel"):
            body, complete = await _read_body(receive)
            if complete:
                refusal = self._edge_refusal(kind, body) if authorized else None
                if refusal is not None:
                    await self._refuse(send, 422, refusal[0], code="invalid_value",
                                       param=refusal[1])
                    return
                body = self._rewrite_request_body(scope, kind, body)
            receive = _replay(body, complete, receive)

        await self.inner(scope, receive, self._answer_sender(send, kind, path))

    # --- requests -------------------------------------------------------------------------

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name.lower() == b"authorization":
                return bool(value.decode("latin-1") == f"Bearer {self.api_key}")
        return False

    def _edge_refusal(self, kind: str, body: bytes) -> tuple[str, str] | None:
        """This variant's strict reading of the edges the documentation leaves open."""
        if not self.options.strict_edges:
            return None
        data = _strict_json(body)
        if not isinstance(data, dict):
            return None
        if kind == "create":
            if "expires_after" in data and data["expires_after"] is None:
                return "expires_after may be omitted, but not null.", "expires_after"
            if isinstance(data.get("bytes"), float):
                return "bytes must be written as an integer (no decimal point).", "bytes"
            if data.get("bytes") == 0:
                return "An upload must declare at least 1 byte.", "bytes"
            after = data.get("expires_after")
            if isinstance(after, dict) and isinstance(after.get("seconds"), float):
                return ("expires_after.seconds must be written as an integer.",
                        "expires_after.seconds")
        if kind == "complete" and "md5" in data:
            md5 = data["md5"]
            if md5 is None:
                return "md5 may be omitted, but not null.", "md5"
            if isinstance(md5, str) and md5 != md5.lower():
                return "md5 must be lower-case hex.", "md5"
        return None

    def _rewrite_request_body(self, scope: Scope, kind: str, body: bytes) -> bytes:
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        if self.options.lenient_content_type and body:
            essence = next((v.decode("latin-1").split(";")[0].strip().lower()
                            for k, v in headers if k.lower() == b"content-type"), "")
            if essence != "application/json" and isinstance(_strict_json(body), dict):
                headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
                headers.append((b"content-type", b"application/json"))
        if kind == "complete":
            body = self.ids.bytes_to_emulator(body)
            if self.options.dedupe_part_ids:
                body = _dedupe_part_ids(body)
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        scope["headers"] = headers
        return body

    # --- answers --------------------------------------------------------------------------

    def _answer_sender(self, send: Send, kind: str, path: str) -> Send:
        start: Message | None = None
        chunks: list[bytes] = []

        async def sender(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if _is_json(headers):
                    start = message
                    return
                await send({**message, "headers": self._extra_headers(headers)})
                return
            if message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                status, body = self._rewrite_answer(kind, path, start["status"],
                                                    b"".join(chunks))
                headers = [(k, v) for k, v in start.get("headers", [])
                           if k.lower() not in (b"content-length", b"content-type")]
                headers += [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode("ascii"))]
                await send({**start, "status": status, "headers": self._extra_headers(headers)})
                await send({"type": "http.response.body", "body": body, "more_body": False})
                start = None
                return
            await send(message)

        return sender

    def _rewrite_answer(self, kind: str, path: str, status: int, raw: bytes) -> tuple[int, bytes]:
        try:
            data = json.loads(raw)
        except ValueError:
            return status, raw
        if kind == "controls":
            return status, raw  # the clock extension is the suite's, not the API's
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            code = error.get("code")
            upload_id = path.split("/")[3] if kind == "cancel" else None
            if (kind == "cancel" and code == "upload_cancelled"
                    and self.options.idempotent_cancel and upload_id in self.uploads):
                data = {**copy.deepcopy(self.uploads[upload_id]), "status": "cancelled"}
                status = 200
            else:
                status = _refusal_status(status, code)
                data = self._envelope(status, str(error.get("message", "")), error.get("param"),
                                      code if isinstance(code, str) else None)
        self._learn(data)
        data = self._decorate(data)
        return status, json.dumps(data).encode()

    def _learn(self, value: Any) -> None:
        if isinstance(value, dict):
            if value.get("object") in _API_OBJECTS:
                self.ids.learn(value.get("id"))
                self.ids.learn(value.get("upload_id"))
            if value.get("object") == "upload" and isinstance(value.get("id"), str):
                self.uploads[value["id"]] = copy.deepcopy(value)
            for item in value.values():
                self._learn(item)
        elif isinstance(value, list):
            for item in value:
                self._learn(item)

    def _decorate(self, value: Any) -> Any:
        """IDs in this variant's format, vendor fields on every object."""
        if isinstance(value, str):
            return self.ids.text_to_variant(value)
        if isinstance(value, list):
            return [self._decorate(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {k: self._decorate(v) for k, v in value.items()}
        kind = value.get("object")
        if kind in _API_OBJECTS:
            out["x_vendor"] = {"region": "loopback-1", "object_version": 3,
                               "labels": {"kind": kind}}
        if kind == "file":
            out["status"] = "uploaded"  # the nested file's status is left open
            out["x_vendor_checksum"] = None
        if kind == "upload":
            out["metadata"] = {}
        return out

    def _envelope(self, status: int, message: str, param: Any, code: str | None
                  ) -> dict[str, Any]:
        inner = envelope(message, type=ERROR_TYPES.get(status, "invalid_request_error"),
                         param=param if isinstance(param, str) else None, code=code,
                         x_vendor_status=status,
                         x_vendor_hint={"docs": "https://example.invalid/errors",
                                        "retry": False})
        return {**inner,
                "x_vendor": {"request_id": f"req_{self.answers:08d}", "region": "loopback-1"}}

    async def _refuse(self, send: Send, status: int, message: str, *, code: str,
                      param: str | None) -> None:
        body = json.dumps(self._envelope(status, message, param, code)).encode()
        headers = self._extra_headers([(b"content-type", b"application/json; charset=utf-8"),
                                       (b"content-length", str(len(body)).encode("ascii"))])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def _extra_headers(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        drop = (b"date", b"server", b"x-should-retry")
        kept = [(k, v) for k, v in headers if k.lower() not in drop]
        return [*kept, (b"x-should-retry", b"false"),
                (b"x-vendor-request-id", f"req_{self.answers:08d}".encode("ascii"))]

    @staticmethod
    async def _drain(receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return


# --- helpers ------------------------------------------------------------------------------


def _operation(method: str, path: str) -> str:
    parts = path.split("/")
    if path.startswith("/v1/_conformance"):
        return "controls"
    if method != "POST":
        return "other"
    if path == "/v1/uploads":
        return "create"
    if len(parts) == 5 and parts[:3] == ["", "v1", "uploads"] and parts[4] in (
            "complete", "cancel", "parts"):
        return parts[4]
    return "other"


def _refusal_status(status: int, code: Any) -> int:
    if code in VALIDATION_CODES:
        return 422
    if code in STATE_CODES:
        return 409
    if code in EXPIRED_CODES:
        return 410
    if code in TOO_LARGE_CODES:
        return 400
    return status


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.split(b";")[0].strip().lower() == b"application/json"
    return False


def _strict_json(body: bytes) -> Any:
    """The body as JSON read strictly (no NaN, no duplicate keys), else None."""
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate key")
        return dict(pairs)

    def no_constant(name: str) -> Any:
        raise ValueError(name)

    try:
        return json.loads(body.decode("utf-8"), object_pairs_hook=no_duplicates,
                          parse_constant=no_constant)
    except (ValueError, RecursionError):
        return None


def _dedupe_part_ids(body: bytes) -> bytes:
    data = _strict_json(body)
    if not isinstance(data, dict):
        return body
    part_ids = data.get("part_ids")
    if not isinstance(part_ids, list) or not all(isinstance(p, str) for p in part_ids):
        return body
    unique = list(dict.fromkeys(part_ids))
    if len(unique) == len(part_ids):
        return body
    return json.dumps({**data, "part_ids": unique}).encode()


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """Up to the cap: (the body, True) when whole, (what was read, False) when larger."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > _BODY_BUFFER_CAP:
            return b"".join(chunks), False


def _replay(body: bytes, complete: bool, receive: Receive) -> Receive:
    """A receive that gives `body` first, then whatever the client sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replay


def variant_app(api_key: str = VARIANT_API_KEY,
                options: VariantOptions | None = None) -> VariantApp:
    return VariantApp(api_key, options)
