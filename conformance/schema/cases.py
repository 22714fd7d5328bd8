"""A schemathesis case as the schema checks see it: its operation, what it was meant to be,
and the small touches that let generated requests reach past the first refusal."""

from __future__ import annotations

import json
import re
from typing import Any, Final

import requests
from schemathesis import Case
from schemathesis.generation.meta import CoverageScenario

SOURCE: Final = "schemathesis"
# A pending upload big enough that small generated parts never fill it (rule 2 allows 8 GiB).
LIVE_UPLOAD: Final = {"filename": "schema-checks.jsonl", "purpose": "fine-tune",
                      "bytes": 1024**3, "mime_type": "text/jsonl"}
PATH_OPERATIONS: Final = ("addUploadPart", "completeUpload", "cancelUpload")
MIME_TYPE: Final = re.compile(r"^[\w.+-]+/[\w.+-]+$", re.ASCII)


def operation_id_of(op: Any) -> str:
    """The operationId of a schemathesis API operation (its label when it has none)."""
    return str(op.definition.raw.get("operationId") or op.label)


def operation_id(case: Case) -> str:
    return operation_id_of(case.operation)


def is_negative(case: Case) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_negative


def scenario(case: Case) -> CoverageScenario | None:
    meta = case.meta
    return getattr(meta.phase.data, "scenario", None) if meta is not None else None


def about(case: Case) -> str:
    """What a generated request was meant to be, in schemathesis' words."""
    meta = case.meta
    description = getattr(meta.phase.data, "description", "") if meta is not None else ""
    mode = meta.generation.mode.value if meta is not None else "explicit"
    return f"{mode} case{': ' + first_line(description) if description else ''}"


def first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""


def step(case: Case, status: int) -> str:
    """One step of a finding's sequence: the request and the status it got."""
    return f"{case.method} {case.formatted_path} -> {status}"


def live_step(upload_id: str) -> str:
    return (f"POST /uploads {json.dumps(LIVE_UPLOAD)} -> 200, id {upload_id} "
            "(a pending upload the run made for this request)")


def make_realistic(case: Case) -> None:
    """Give a positive create request a non-empty filename and a type/subtype mime_type.

    The document allows any strings (the facts say no more), but targets may refuse
    others (the reference emulator does), and a create that succeeds is what lets the
    stateful pass follow links. Only every other create is touched: the rest stay raw.
    """
    if operation_id(case) != "createUpload" or is_negative(case):
        return
    body = case.body
    if not isinstance(body, dict):
        return
    fixed = dict(body)
    if not fixed.get("filename"):
        fixed["filename"] = "schema-checks.jsonl"
    mime_type = fixed.get("mime_type")
    if not isinstance(mime_type, str) or not MIME_TYPE.match(mime_type):
        fixed["mime_type"] = "text/jsonl"
    case.body = fixed


def prepare(case: Case, base_url: str, headers: dict[str, str]) -> requests.PreparedRequest:
    """The request a case would send (for the record of a request that got no answer)."""
    kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
    allowed = ("method", "url", "headers", "params", "data", "json", "files", "cookies")
    return requests.Request(**{k: v for k, v in kwargs.items() if k in allowed}).prepare()
