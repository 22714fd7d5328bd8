"""The old home of the SDK records and checks, kept only as a list of the new homes.

Records live in `sdk_records`, the checks in `sdk_checks`, the request judge in
`conformance.openapi.judge`. Import from those; this shim goes once nothing uses it.
"""

from __future__ import annotations

from conformance.adapters.sdk_checks import (
    ERROR_CLASSES,
    SdkChecks,
    error_body_problems,
    expected_error_class,
    json_mismatches,
    request_problems,
)
from conformance.adapters.sdk_records import (
    ChunkedRun,
    FormField,
    HttpRecord,
    MultipartScanner,
    SdkAnswer,
    SentRequest,
    authorization_problem,
    curl_line,
    describe_request,
    parse_json_body,
    recorded_url,
    redact_headers,
    render_exchange,
)
from conformance.openapi import default_openapi_path
from conformance.openapi.judge import Intended, RequestJudge, default_judge

DEFAULT_OPENAPI = default_openapi_path()

__all__ = [
    "DEFAULT_OPENAPI",
    "ERROR_CLASSES",
    "ChunkedRun",
    "FormField",
    "HttpRecord",
    "Intended",
    "MultipartScanner",
    "RequestJudge",
    "SdkAnswer",
    "SdkChecks",
    "SentRequest",
    "authorization_problem",
    "curl_line",
    "default_judge",
    "describe_request",
    "error_body_problems",
    "expected_error_class",
    "json_mismatches",
    "parse_json_body",
    "recorded_url",
    "redact_headers",
    "render_exchange",
    "request_problems",
]
