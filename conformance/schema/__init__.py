"""Schema-driven checks: schemathesis tests a target against an OpenAPI document of the
Uploads API, and every check outcome becomes a `Finding` tagged with a requirement ID.

Passes reach the target through schemathesis' Python API: an auth probe and a happy path
made by hand (`probes`), then coverage (deterministic boundary and type-breaking values),
fuzzing (Hypothesis-generated requests, positive and negative, per operation) and stateful
sequences that follow the document's links (`passes`). How the outcomes map to
requirements (`evaluate`):

    schemathesis check / probe          requirement
    ----------------------------------  ------------------------------------------------
    not_a_server_error, no answer       NO-SERVER-ERROR
    status_code_conformance             SCHEMA-RESPONSE (an undocumented 4xx is INFO
                                        OPEN-REFUSAL-CODE when the document lists no
                                        refusal for the operation, as the public one)
    response_schema_conformance (2xx)   SCHEMA-RESPONSE
    content_type_conformance (2xx),     SCHEMA-CONTENT-TYPE
    JSON content type of a 4xx
    negative_data_rejection             SCHEMA-NEGATIVE (only when the request judge,
                                        `conformance.openapi.judge`, finds it INVALID)
    error envelope of every 4xx         ERROR-ENVELOPE
    auth probe                          AUTH-REQUIRED

The modules: `run` (load the document, run the passes), `session` (send a case, the shared
state of a run), `evaluate` (one answer against the document and the judge), `findings`,
`exchanges` (the redacted record and curl line of an exchange) and `cases` (a generated
case as the checks see it).
"""

from __future__ import annotations

from conformance.openapi import default_openapi_path
from conformance.schema.run import run_schema_checks
from conformance.schema.session import SchemaRunError

__all__ = ["SchemaRunError", "default_openapi_path", "run_schema_checks"]
