"""The hand-made passes: the auth probe (AUTH-REQUIRED) and the happy path.

The auth probe sends each operation a request that would be accepted with credentials,
once without any and once with a wrong key: both must be answered 401. The happy path takes
one upload through create, part and complete and cancels another, so that every success
answer is checked against the document whatever the generators manage to reach.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

import requests
from schemathesis import Case

from conformance.schema.cases import LIVE_UPLOAD, live_step, step
from conformance.schema.session import NoAnswer, Session

WRONG_KEY: Final = "sk-uploads-conformance-wrong-key"  # not a secret: a key no target may accept
OPERATIONS: Final = frozenset({"createUpload", "addUploadPart", "completeUpload", "cancelUpload"})


def auth_probe(session: Session) -> None:
    """Every operation without credentials, then with a wrong key, must answer 401."""
    source = "schema-checks auth probe"
    for operation, op in session.operations.items():
        for label, headers in (("without credentials", {}),
                               ("with a wrong key", session.auth_with(WRONG_KEY))):
            if session.out_of_time():
                return
            case, steps = _probe_case(session, operation, op)
            steps.append(f"auth probe: a valid request {label}")
            try:
                response = session.send(case, source, steps, headers=headers)
            except (NoAnswer, requests.RequestException, ValueError):
                continue  # a missing answer is already recorded as NO-SERVER-ERROR
            if response.status_code == 401:
                session.findings.passed("AUTH-REQUIRED", operation)
                continue
            exchange = session.evidence.exchange(case, response, headers)
            session.findings.failed(
                "AUTH-REQUIRED", operation, f"{label}: {response.status_code}",
                f"a request {label} was answered {response.status_code}, not 401",
                lambda: exchange,  # noqa: B023 - called at once, inside this iteration
                [*steps, step(case, response.status_code)], source)


def _probe_case(session: Session, operation: str, op: Any) -> tuple[Case, list[str]]:
    """A request that would be accepted with credentials (as far as the body goes)."""
    if operation == "createUpload":
        return op.Case(body=dict(LIVE_UPLOAD), media_type="application/json"), []
    upload_id = session.live_upload()
    steps = [live_step(upload_id)] if upload_id else []
    path = {"upload_id": upload_id or "upload_schema_checks_probe"}
    if operation == "addUploadPart":
        body: Any = {"data": b"probe"}
        return op.Case(path_parameters=path, body=body, media_type="multipart/form-data"), steps
    if operation == "completeUpload":
        return op.Case(path_parameters=path, body={"part_ids": []},
                       media_type="application/json"), steps
    return op.Case(path_parameters=path), steps


def happy_path(session: Session) -> None:
    """One upload created, given a part and completed; another created and cancelled."""
    content = b'{"prompt": "schema checks"}\n'
    create = {"filename": "schema-checks.jsonl", "purpose": "fine-tune",
              "bytes": len(content), "mime_type": "text/jsonl"}
    source, steps = "schema-checks happy path", ["happy path"]
    ops = session.operations
    if not OPERATIONS.issubset(ops):
        return

    def send(case: Case) -> Any:
        try:
            response = session.send(case, source, steps)
            steps.append(step(case, response.status_code))
            return response.json() if response.status_code == 200 else None
        except (NoAnswer, requests.RequestException, ValueError):
            return None  # recorded, or not the target's fault

    upload = send(ops["createUpload"].Case(body=dict(create), media_type="application/json"))
    if not isinstance(upload, dict) or not isinstance(upload.get("id"), str):
        return
    path = {"upload_id": upload["id"]}
    part = send(ops["addUploadPart"].Case(path_parameters=path, body={"data": content},
                                          media_type="multipart/form-data"))
    if isinstance(part, dict) and isinstance(part.get("id"), str):
        body = {"part_ids": [part["id"]], "md5": hashlib.md5(content).hexdigest()}
        send(ops["completeUpload"].Case(path_parameters=path, body=body,
                                        media_type="application/json"))
    other = send(ops["createUpload"].Case(body=dict(create), media_type="application/json"))
    if isinstance(other, dict) and isinstance(other.get("id"), str):
        steps[:] = ["happy path (cancel)", steps[-1]]
        send(ops["cancelUpload"].Case(path_parameters={"upload_id": other["id"]}))
