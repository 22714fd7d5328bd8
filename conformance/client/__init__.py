"""The target client: every HTTP request the suite sends to a target, and its record.

`TargetClient` sends a request with a timeout, retries the answers that ask for it (429,
503) and the connections that never carried the request, and records each exchange as an
`Exchange` with the API key redacted and a curl line that reproduces it. A transport failure
never raises: it comes back as an `Answer` without a status, the error recorded.

Modules, one concept each: `target_client` (building requests, the retry loop, the log),
`wire` (one attempt: send, read the answer, record it), `retries` (when to send again, how
long to wait), `answer` (`Answer`, `ContentStream`, `MISSING`), `multipart` (an added part's
form body), `controls` (the target's optional test controls and its clock).
"""

from conformance.client.answer import MISSING, Answer, AnswerBasics, ContentStream, json_body
from conformance.client.controls import TestControlsError
from conformance.client.multipart import SMALL_BODY_BYTES
from conformance.client.target_client import MAX_ANSWER_BYTES, TargetClient, TargetUnreachable

__all__ = [
    "MAX_ANSWER_BYTES",
    "MISSING",
    "SMALL_BODY_BYTES",
    "Answer",
    "AnswerBasics",
    "ContentStream",
    "TargetClient",
    "TargetUnreachable",
    "TestControlsError",
    "json_body",
]
