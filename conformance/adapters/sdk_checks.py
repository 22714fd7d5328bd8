"""An SDK held to the document and to the target: the checks behind two requirements.

SDK-REQUEST-CONFORMS: every request an SDK sends for an operation is the one the project's
OpenAPI document describes (the judge's reading, `conformance.openapi.judge`) and carries
what the SDK was asked to send. SDK-RESULT-MATCHES: what the SDK gives back, a result or an
exception, is what the target sent. `SdkChecks` observes what it sees into the run's
`Recorder`; the departures travel on the answers (`SdkAdapter.report_checks`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from conformance.adapters.sdk_records import SentRequest
from conformance.client import MISSING
from conformance.openapi.judge import Intended, RequestJudge, default_judge
from conformance.recorder import Recorder

__all__ = [
    "ERROR_CLASSES",
    "SdkChecks",
    "error_body_problems",
    "expected_error_class",
    "json_mismatches",
    "request_problems",
]

REQUEST_REQUIREMENT: Final = "SDK-REQUEST-CONFORMS"
RESULT_REQUIREMENT: Final = "SDK-RESULT-MATCHES"

# The exception class the official SDKs (Python and Node) raise for each refusal status;
# >= 500 is InternalServerError, any other status the SDK's generic status error.
ERROR_CLASSES: Final[Mapping[int, str]] = {
    400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError",
    404: "NotFoundError", 409: "ConflictError", 422: "UnprocessableEntityError",
    429: "RateLimitError",
}


def expected_error_class(status: int, generic: str) -> str:
    """The class an SDK raises for `status`; `generic` is its catch-all status error."""
    if status >= 500:
        return "InternalServerError"
    return ERROR_CLASSES.get(status, generic)



def request_problems(judge: RequestJudge, sent: SentRequest, intended: Intended,
                     base_url: str) -> list[str]:
    """How `sent` departs from the document (the judge's word) or from what was asked."""
    found = judge.problems(sent, intended, base_url)
    if intended.body is not MISSING and sent.json is not MISSING:
        differences = json_mismatches(sent.json, intended.body, "body")
        if differences:
            found.append("the JSON body is not what the SDK was asked to send: "
                         + "; ".join(differences[:3]))
    data = next((f for f in sent.form or () if f.name == "data"), None)
    if data is not None and intended.part_size is not None:
        if data.size != intended.part_size:
            found.append(f"the 'data' field holds {data.size} bytes, not the part's "
                         f"{intended.part_size}")
        elif intended.part_md5 is not None and data.md5 != intended.part_md5:
            found.append("the 'data' field holds other bytes than the part's")
    return found


def json_mismatches(got: Any, want: Any, path: str = "") -> list[str]:
    """Where two JSON values differ: true and 1 differ, 1 and 1.0 are the same number."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path or '/'}: {_short(got)} where {_short(want)} was expected"]
        found = []
        for key in want.keys() | got.keys():
            if key not in got:
                found.append(f"{path}/{key}: missing (expected {_short(want[key])})")
            elif key not in want:
                found.append(f"{path}/{key}: {_short(got[key])}, not expected")
            else:
                found += json_mismatches(got[key], want[key], f"{path}/{key}")
        return sorted(found)
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{path or '/'}: {_short(got)} where {_short(want)} was expected"]
        return [m for i, (g, w) in enumerate(zip(got, want, strict=True))
                for m in json_mismatches(g, w, f"{path}/{i}")]
    if (type(got) is not type(want) and not (_is_number(got) and _is_number(want))) \
            or got != want:
        return [f"{path or '/'}: {_short(got)} where {_short(want)} was expected"]
    return []


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=repr) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SdkChecks:
    """Observes what an SDK did into the run's recorder (none given: nothing is checked).

    `sdk` names the SDK in messages and observations, e.g. "openai-python".
    """

    def __init__(self, recorder: Recorder | None, sdk: str, base_url: str,
                 judge: RequestJudge | None = None) -> None:
        self.recorder = recorder
        self.sdk = sdk
        self.base_url = base_url
        self.judge = judge or default_judge()

    def error_class(self, status: int, class_name: str, generic: str,
                    matches: bool | None = None) -> str | None:
        """Observes which class a refusal surfaced as; the problem if it is the wrong one.

        `matches` overrides the comparison by name (an SDK may raise a subclass).
        """
        wanted = expected_error_class(status, generic)
        if self.recorder is not None:
            self.recorder.observe("OPEN-REFUSAL-CODE",
                                          f"{self.sdk}: {status} raises {class_name}")
        if matches is None:
            matches = class_name == wanted
        return None if matches else f"a {status} answer raised {class_name}, not {wanted}"

    def observe(self, requirement: str, text: str) -> None:
        if self.recorder is not None:
            self.recorder.observe(requirement, text)

    def cannot_test(self, requirement: str, reason: str) -> None:
        if self.recorder is not None:
            self.recorder.cannot_test(requirement, reason)


def error_body_problems(exception_body: Any, wire: Any, code: Any = MISSING,
                        type_: Any = MISSING, param: Any = MISSING) -> list[str]:
    """How an SDK exception's body (the envelope's `error`) departs from the answer's."""
    want = wire.get("error", wire) if isinstance(wire, dict) else wire
    found = [f"its body {m}" for m in json_mismatches(exception_body, want)][:3]
    if isinstance(want, dict):
        for name, value in (("code", code), ("type", type_), ("param", param)):
            if value is not MISSING and want.get(name) is not None and value != want.get(name):
                found.append(f"its {name} is {value!r}, the answer's {want.get(name)!r}")
    return found
