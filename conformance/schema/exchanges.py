"""The schema checks' evidence: a case and its answer as a redacted `Exchange` with curl.

Redaction, previews and the key-from-the-environment curl header come from
`conformance.evidence`; the request is read as the SDK records read one
(`describe_request`), so the judge sees it the same way. The curl line is rendered from
the prepared request's exact bytes by the project's one renderer, with the key read from
`$OPENAI_API_KEY` and the run's secrets scrubbed.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from schemathesis import Case, Response

from conformance.adapters.sdk_records import SentRequest, describe_request
from conformance.evidence import Redactor, curl_command, preview
from conformance.results import Exchange
from conformance.schema.cases import prepare


@dataclass(frozen=True, slots=True)
class SchemaEvidence:
    """Builds the records of one run's exchanges with the target at `base_url`."""

    base_url: str
    api_key: str | None
    redactor: Redactor
    key_header: str = "Authorization"  # the header that carries the key

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
            # Scrubbed again with all the run's secrets: the description knows only the key.
            url=redact.text(sent.url),
            request_headers=redact.headers(sent.headers),
            request_body=sent.summary() if sent.form is not None else
            preview(redact.data(_body(request))),
            status=response.status_code if response is not None else None,
            response_headers=({k: redact.text(", ".join(v)) for k, v in response.headers.items()}
                              if response is not None else {}),
            response_body=preview(redact.data(response.content)) if response is not None else "",
            error=redact.text(error) if error else None,
            duration_s=response.elapsed if response is not None else 0.0,
            curl=self.curl(request),
        )

    def curl(self, request: requests.PreparedRequest) -> str:
        """The request exactly as sent, as a command that reads the run's key from the
        environment (a deliberately wrong key is shown as sent)."""
        headers = {k: str(v) for k, v in request.headers.items()}
        sent_key = next((v for k, v in headers.items() if k.lower() == self.key_header.lower()),
                        None)
        key_auth = self.api_key is not None and sent_key in (self.api_key,
                                                             f"Bearer {self.api_key}")
        return curl_command(str(request.method), str(request.url), headers, self.redactor,
                            key_auth=key_auth, key_header=self.key_header,
                            body=None if request.body is None else _body(request))


def _body(request: requests.PreparedRequest) -> bytes:
    body = request.body
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else bytes(body)
