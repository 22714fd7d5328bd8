"""The schema checks' evidence: a case and its answer as a redacted `Exchange` with curl.

Redaction, previews and the key-from-the-environment curl header come from
`conformance.evidence`; the request is read as the SDK records read one
(`describe_request`), so the judge sees it the same way. The curl line itself is
schemathesis' own (it reproduces the exact bytes it generated), with the key put back as
`$OPENAI_API_KEY` and the run's secrets scrubbed.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import requests
from schemathesis import Case, Response

from conformance.adapters.sdk_records import SentRequest, describe_request
from conformance.evidence import KEY_FROM_ENVIRONMENT, Redactor, preview
from conformance.results import Exchange
from conformance.schema.cases import prepare

# What schemathesis' sanitization makes of an Authorization header in a curl line.
_FILTERED_AUTH = "-H 'Authorization: [Filtered]'"


@dataclass(frozen=True, slots=True)
class SchemaEvidence:
    """Builds the records of one run's exchanges with the target at `base_url`."""

    base_url: str
    api_key: str | None
    redactor: Redactor

    def describe(self, request: requests.PreparedRequest) -> SentRequest:
        """A request as it went on the wire (headers redacted, body parsed for the judge)."""
        return describe_request(str(request.method), str(request.url),
                                [(k, str(v)) for k, v in request.headers.items()],
                                _body(request), self.api_key)

    def exchange(self, case: Case, response: Response | None, headers: dict[str, str],
                 error: str | None = None) -> Exchange:
        request = response.request if response is not None else \
            prepare(case, self.base_url, headers)
        sent = self.describe(request)
        redact = self.redactor
        return Exchange(
            method=sent.method,
            url=sent.url,
            request_headers=dict(sent.headers),
            request_body=sent.summary() if sent.form is not None else
            preview(redact.data(_body(request))),
            status=response.status_code if response is not None else None,
            response_headers=({k: redact.text(", ".join(v)) for k, v in response.headers.items()}
                              if response is not None else {}),
            response_body=preview(redact.data(response.content)) if response is not None else "",
            error=redact.text(error) if error else None,
            duration_s=response.elapsed if response is not None else 0.0,
            curl=self.curl(case, headers),
        )

    def curl(self, case: Case, headers: dict[str, str]) -> str:
        command = case.as_curl_command(headers=headers, base_url=self.base_url)
        value = headers.get("Authorization")
        if value is not None:
            # Sanitization filtered the header; the run's own key is read from the
            # environment, a deliberately wrong one is shown as sent.
            replacement = f"-H {KEY_FROM_ENVIRONMENT}" if value == f"Bearer {self.api_key}" \
                else f"-H {shlex.quote(f'Authorization: {value}')}"
            command = command.replace(_FILTERED_AUTH, replacement)
        return self.redactor.text(command)


def _body(request: requests.PreparedRequest) -> bytes:
    body = request.body
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else bytes(body)
