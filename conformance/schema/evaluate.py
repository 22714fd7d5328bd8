"""One answer, every outcome mapped to a requirement (the table in `conformance.schema`).

Fairness comes first: an accepted request schemathesis meant as invalid fails
SCHEMA-NEGATIVE only when the project's judge finds what was actually sent INVALID (and the
request rule it breaks as well, `invalid_requests`); any 4xx is a correct refusal; what the
documentation leaves open is INFO, never a failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from schemathesis import Case, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.meta import CONTENT_TYPE_PROBES
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from conformance.openapi.judge import Reading, RequestJudge
from conformance.schema.cases import about, first_line, is_negative, operation_id, scenario, step
from conformance.schema.exchanges import SchemaEvidence
from conformance.schema.findings import Findings
from conformance.schema.invalid_requests import rule_broken

Fail = Callable[[str, str, str], None]  # (requirement, kind, message)


class Evaluator:
    """Holds each answer to the document (through schemathesis' checks) and to the judge."""

    def __init__(self, findings: Findings, evidence: SchemaEvidence, judge: RequestJudge):
        self.findings = findings
        self.evidence = evidence
        self.judge = judge

    def evaluate(self, case: Case, response: Response, source: str, steps: list[str],
                 headers: dict[str, str]) -> None:
        operation = operation_id(case)
        status = response.status_code
        steps = [*steps, step(case, status)]

        def fail(requirement: str, kind: str, message: str) -> None:
            self.findings.failed(requirement, operation, kind, message,
                                 lambda: self.evidence.exchange(case, response, headers),
                                 steps, source)

        # For content-type probes schemathesis' check re-sends the request; the status says it all.
        probe = scenario(case) in CONTENT_TYPE_PROBES
        if status >= 500 or (not probe and failures(case, response, not_a_server_error)):
            fail("NO-SERVER-ERROR", f"status {status}", f"answered {status} to {about(case)}")
            return
        self.findings.passed("NO-SERVER-ERROR", operation)

        documented = case.operation.responses.status_codes
        if not failures(case, response, status_code_conformance):
            self.findings.passed("SCHEMA-RESPONSE", operation)
        elif 400 <= status < 500 and not any(str(c).startswith("4") for c in documented):
            # The document describes no refusal at all (the public one): not the target's fault.
            self.findings.observed("OPEN-REFUSAL-CODE", operation,
                                   f"answered {status}, a code the document does not list", source)
        else:
            fail("SCHEMA-RESPONSE", f"status {status}",
                 f"answered {status}, which the document does not list "
                 f"(documented: {', '.join(map(str, documented))})")

        if 200 <= status < 300:
            self._accepted(case, response, fail, operation, source)
        elif 400 <= status < 500:
            self._refused(case, response, fail, operation, source)

    def _accepted(self, case: Case, response: Response, fail: Fail, operation: str,
                  source: str) -> None:
        wrong_type = failures(case, response, content_type_conformance)
        for failure in wrong_type:
            fail("SCHEMA-CONTENT-TYPE", f"content type {content_type(response)}",
                 f"answered {response.status_code} as {content_type(response) or 'no type'}: "
                 f"{failure.title}")
        if not wrong_type:
            self.findings.passed("SCHEMA-CONTENT-TYPE", operation)
        invalid = failures(case, response, response_schema_conformance)
        for failure in invalid:
            fail("SCHEMA-RESPONSE", failure_kind(failure),
                 f"the {response.status_code} answer does not match the document: "
                 f"{failure.title}. {first_line(failure.message)}")
        if not invalid:
            self.findings.passed("SCHEMA-RESPONSE", operation)

        if not is_negative(case):
            return
        judged = self.judge.judge(operation, self.evidence.describe(response.request))
        probe = scenario(case) in CONTENT_TYPE_PROBES
        flagged = bool(failures(case, response, negative_data_rejection))
        if judged.reading is Reading.INVALID and (flagged or probe):
            message = (f"accepted ({response.status_code}) a request with {judged.reason}; "
                       f"it must be refused with a 4xx ({about(case)})")
            fail("SCHEMA-NEGATIVE", judged.reason, message)
            rule = rule_broken(operation, judged)
            if rule is not None:  # the catalog's own rule for such a request, broken too
                fail(rule, judged.reason, message)
        elif judged.reading is Reading.OPEN:
            self.findings.observed("OPEN-LENIENCY", operation, f"accepted {judged.reason}", source)

    def _refused(self, case: Case, response: Response, fail: Fail, operation: str,
                 source: str) -> None:
        status = response.status_code
        problem = envelope_problem(response)
        if problem:
            fail("ERROR-ENVELOPE", problem, f"refused with {status} without the error envelope: "
                                            f"{problem}")
        else:
            self.findings.passed("ERROR-ENVELOPE", operation)
        media_type = content_type(response).split(";")[0].strip().lower()
        if problem != "the body is not JSON":
            if media_type == "application/json" or media_type.endswith("+json"):
                self.findings.passed("SCHEMA-CONTENT-TYPE", operation)
            else:
                fail("SCHEMA-CONTENT-TYPE", f"{status} as {media_type or 'no type'}",
                     f"sent a JSON refusal ({status}) as {media_type or 'no content type'}")
        if is_negative(case):
            self.findings.passed("SCHEMA-NEGATIVE", operation)
            judged = self.judge.judge(operation, self.evidence.describe(response.request))
            rule = rule_broken(operation, judged)
            if rule is not None:  # a check of that rule too, which held
                self.findings.passed(rule, operation)
            self.findings.observed("OPEN-REFUSAL-CODE", operation,
                                   f"refused a schema-invalid request with {status}", source)


def failures(case: Case, response: Response, check: Callable[..., Any]) -> list[Failure]:
    """The failures one schemathesis check reports for one answer (empty when it passes)."""
    try:
        case.validate_response(response, checks=[check])
    except FailureGroup as group:
        return [f for f in group.exceptions if isinstance(f, Failure)]
    except Failure as failure:
        return [failure]
    return []


def failure_kind(failure: Failure) -> str:
    schema_path = getattr(failure, "schema_path", None)
    if schema_path:
        return "/".join(map(str, schema_path))
    return failure.title


def content_type(response: Response) -> str:
    values = response.headers.get("content-type") or []
    return values[0] if values else ""


def envelope_problem(response: Response) -> str | None:
    """Why a refusal's body is not {error: {message, type, param, code}}, or None."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return "the body is not JSON"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "no 'error' object"
    for name in ("message", "type"):
        if not isinstance(error.get(name), str):
            return f"error.{name} is not a string"
    for name in ("param", "code"):
        if name not in error:
            return f"error.{name} is missing"
        if not (error[name] is None or isinstance(error[name], str)):
            return f"error.{name} is neither a string nor null"
    return None
