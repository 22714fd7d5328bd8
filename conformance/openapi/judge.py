"""The one judge of a request: does what went on the wire follow the project's document?

`RequestJudge` reads the OpenAPI document (whatever document drove a run, requests are
judged by the project's own, which holds the facts) and gives the body of a request a
`Reading`: VALID, INVALID (a target must refuse it) or OPEN (the documentation lets a target
accept or refuse it: null for an optional field, a whole-valued float such as 10.0 for an
integer, an empty or blank required string, a JSON body under another content type, a form
field that should be a file sent as text, extra form fields, a body where the operation has
none). `format` is not asserted, as in JSON Schema. It is the only reading of a request in
the project: the oracle (`model.expect_create`) asks it too.

The schema checks fail a target only for accepting what is INVALID. The SDK checks use
`problems`, which holds an SDK to every word of it: an SDK has no reason to take a
leniency, so OPEN is a departure there too, as are a wrong method, path, host or credential.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, Final, Protocol
from urllib.parse import unquote, urlsplit

import jsonschema_rs

from conformance.client import MISSING
from conformance.openapi import load_document

__all__ = ["Intended", "Judgement", "Reading", "RequestJudge", "WireRequest", "default_judge"]

JSON: Final = "application/json"
MULTIPART: Final = "multipart/form-data"


class Reading(Enum):
    VALID = "valid"
    INVALID = "invalid"  # must be refused
    OPEN = "open"  # the documentation lets a target accept or refuse it


@dataclass(frozen=True, slots=True)
class Judgement:
    reading: Reading
    reason: str = ""
    where: str = ""  # for a schema violation: the JSON pointer of the value, e.g. /bytes
    keyword: str = ""  # and the schema keyword it breaks, e.g. maximum


VALID: Final = Judgement(Reading.VALID)


class FormFieldLike(Protocol):
    @property
    def name(self) -> str | None: ...
    @property
    def filename(self) -> str | None: ...


class WireRequest(Protocol):
    """What the judge reads of a request (an SDK's `SentRequest` is one)."""

    @property
    def method(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def auth_problem(self) -> str | None: ...
    @property
    def body_size(self) -> int: ...
    @property
    def json(self) -> Any: ...  # the parsed JSON body; MISSING when it was not JSON
    @property
    def form(self) -> Sequence[FormFieldLike] | None: ...
    @property
    def form_error(self) -> str | None: ...
    @property
    def content_type(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Intended:
    """The operation an SDK was asked to run, as the request for it should carry it."""

    operation: str  # the operationId in the OpenAPI document
    upload_id: str | None = None
    body: Any = MISSING  # the JSON body asked for (MISSING: none)
    part_size: int | None = None  # the part's bytes, for addUploadPart
    part_md5: str | None = None


@dataclass(frozen=True, slots=True)
class _Operation:
    method: str
    path: str  # the template, e.g. /uploads/{upload_id}/parts
    media_type: str | None  # the request body's media type; None: no body
    validator: Any  # jsonschema_rs validator of a JSON body, or None
    schema: Mapping[str, Any]  # the body's schema, references resolved at the top
    components: Mapping[str, Any]
    required_fields: tuple[str, ...] = ()
    optional_fields: tuple[str, ...] = ()  # null for one of these is left open


class RequestJudge:
    """Judges requests by an OpenAPI document (the project's own: `default_judge()`)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        components = document.get("components", {})
        self._operations: dict[str, _Operation] = {}
        for path, item in document.get("paths", {}).items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                self._operations[str(operation["operationId"])] = _read_operation(
                    method.upper(), path, operation, components)

    def operation(self, operation_id: str) -> tuple[str, str]:
        """(method, path template) of an operation."""
        found = self._operations[operation_id]
        return found.method, found.path

    # -- the reading of a body --------------------------------------------------------------

    def judge_json(self, operation: str, body: Any) -> Judgement:
        """The reading of a JSON body alone (how it is carried aside): the oracle asks this."""
        return _json_content(self._operations[operation], body)

    def judge(self, operation: str, sent: WireRequest) -> Judgement:
        """The reading of a request's body: INVALID before OPEN, the first reason of each."""
        spec = self._operations[operation]
        framing = self._framing(spec, sent)
        if framing.reading is Reading.INVALID:
            return framing
        content = self._content(spec, sent)
        if content.reading is Reading.INVALID:
            return content
        return framing if framing.reading is Reading.OPEN else content

    @staticmethod
    def _framing(spec: _Operation, sent: WireRequest) -> Judgement:
        """How the body is carried: its content type, and whether it can be read."""
        media_type = sent.content_type.split(";")[0].strip().lower()
        if spec.media_type is None:
            return VALID if not sent.body_size else Judgement(
                Reading.OPEN, f"a body of {sent.body_size} bytes where the operation has none")
        if spec.media_type == JSON:
            return VALID if media_type == JSON else Judgement(
                Reading.OPEN, f"a JSON body sent as {media_type or 'no content type'}, "
                              f"not {JSON}")
        if media_type != spec.media_type:
            return Judgement(Reading.INVALID, f"a body sent as {media_type or 'no content type'}"
                                              f", not {spec.media_type}")
        if spec.media_type == MULTIPART and (sent.form is None or sent.form_error):
            return Judgement(Reading.INVALID,
                             sent.form_error or "the multipart body could not be read")
        return VALID

    @staticmethod
    def _content(spec: _Operation, sent: WireRequest) -> Judgement:
        """What the body holds, once it could be read."""
        if spec.media_type == JSON:
            return _json_content(spec, sent.json)
        if spec.media_type == MULTIPART and sent.form is not None:
            return _form_content(spec, sent.form)
        return VALID

    # -- an SDK's request, held to every word ----------------------------------------------

    def problems(self, sent: WireRequest, intended: Intended, base_url: str) -> list[str]:
        """Every way `sent` departs from the document; [] if none.

        A body the suite asked for on purpose though the document forbids it is not held
        to the schema (the SDK sent what it was told); `sdk_checks` compares it with what
        was asked.
        """
        spec = self._operations[intended.operation]
        found: list[str] = []
        if sent.method.upper() != spec.method:
            found.append(f"method {sent.method}, not {spec.method}")
        found += path_problems(sent.url, base_url, spec.path, intended.upload_id)
        if sent.auth_problem:
            found.append(sent.auth_problem)
        framing = self._framing(spec, sent)
        if framing.reading is not Reading.VALID:
            found.append(framing.reason)
            if framing.reading is Reading.INVALID:
                return found
        if spec.media_type == JSON and sent.json is MISSING:
            return [*found, "the body is not JSON"]
        if spec.media_type == JSON and intended.body is not MISSING and \
                _json_content(spec, intended.body).reading is not Reading.VALID:
            return found
        content = self._content(spec, sent)
        if content.reading is not Reading.VALID:
            found.append(f"the body departs from the document's schema: {content.reason}")
        return found


def _form_content(spec: _Operation, form: Sequence[FormFieldLike]) -> Judgement:
    for name in spec.required_fields:
        fields = [f for f in form if f.name == name]
        if not fields:
            return Judgement(Reading.INVALID, f"0 form fields named {name!r}")
        if any(f.filename is None for f in fields):
            return Judgement(Reading.OPEN, f"{name!r} sent as a plain form field, not a file")
        if len(fields) > 1:
            return Judgement(Reading.OPEN, f"{len(fields)} form fields named {name!r}")
    if len(form) > len(spec.required_fields):
        names = ", ".join(repr(name) for name in spec.required_fields)
        return Judgement(Reading.OPEN, f"form fields besides one {names} file")
    return VALID


def _json_content(spec: _Operation, data: Any) -> Judgement:
    if data is MISSING:
        return Judgement(Reading.INVALID, "the body is not JSON")
    nulls: list[str] = []
    if isinstance(data, dict):
        nulls = [k for k in spec.optional_fields if k in data and data[k] is None]
        data = {k: v for k, v in data.items() if k not in nulls}
    error = next(iter(spec.validator.iter_errors(data)), None)
    if error is not None:
        where = "/" + "/".join(map(str, error.instance_path))
        keyword = str(error.schema_path[-1]) if error.schema_path else "schema"
        return Judgement(Reading.INVALID, f"{where}: {error.message}", where, keyword)
    if nulls:
        return Judgement(Reading.OPEN, f"null for the optional {', '.join(nulls)}")
    if floats := _whole_floats(spec.schema, data, spec.components, ""):
        return Judgement(Reading.OPEN, f"a whole-valued float for the integer {floats[0]}")
    blank = [k for k in spec.required_fields if isinstance(data, dict)
             and isinstance(data.get(k), str) and not data[k].strip()]
    if blank:
        return Judgement(Reading.OPEN, f"an empty or blank {blank[0]}")
    return VALID


def _whole_floats(schema: Mapping[str, Any], data: Any, components: Mapping[str, Any],
                  where: str) -> list[str]:
    """Where `data` holds 10.0 for an integer: valid JSON Schema, a leniency for a server."""
    schema = _resolve(schema, components)
    if schema.get("type") == "integer" and isinstance(data, float):
        return [where or "/"]
    if not isinstance(data, dict):
        return []
    properties = schema.get("properties", {})
    return [found for key, value in data.items() if key in properties
            for found in _whole_floats(properties[key], value, components, f"{where}/{key}")]


def _read_operation(method: str, path: str, operation: Mapping[str, Any],
                    components: Mapping[str, Any]) -> _Operation:
    content = (operation.get("requestBody") or {}).get("content") or {}
    if not content:
        return _Operation(method, path, None, None, {}, components)
    media_type, spec = next(iter(content.items()))
    schema = dict(spec.get("schema") or {})
    resolved = _resolve(schema, components)
    validator = None
    if media_type == JSON:
        validator = jsonschema_rs.validator_for({**schema, "components": components},
                                                validate_formats=False)
    required = tuple(resolved.get("required", ()))
    optional = tuple(k for k in resolved.get("properties", {}) if k not in required)
    return _Operation(method, path, media_type, validator, resolved, components, required,
                      optional)


def _resolve(schema: Mapping[str, Any], components: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/"):
        node: Any = {"components": components}
        for key in ref[2:].split("/"):
            node = node[key]
        return _resolve(node, components)
    return schema


def path_problems(url: str, base_url: str, template: str, upload_id: str | None) -> list[str]:
    """How a request's URL departs from `base_url` + the operation's path template."""
    parts, base = urlsplit(url), urlsplit(base_url)
    found = []
    if parts.query:
        found.append(f"a query string {parts.query!r} the operation does not define")
    want = [s for s in base.path.split("/") if s]
    for segment in template.split("/"):
        if segment:
            want.append(upload_id or "" if segment == "{upload_id}" else segment)
    got = [unquote(s) for s in parts.path.split("/") if s]
    if got != want:
        found.append(f"path {parts.path!r}, not /{'/'.join(want)}")
    if (parts.hostname, parts.port) != (base.hostname, base.port):
        found.append(f"sent to {parts.hostname}:{parts.port}, not the target's "
                     f"{base.hostname}:{base.port}")
    return found


@cache
def default_judge() -> RequestJudge:
    """The judge built from the project's own OpenAPI document."""
    return RequestJudge(load_document())
