"""The catalog rule a schema-invalid request breaks when a target takes it, besides
SCHEMA-NEGATIVE: one accepted invalid request fails every requirement it breaks.

Only what each requirement states: CREATE-INVALID a create with a missing, mistyped or
unknown field, or a purpose outside the enum; UPLOAD-SIZE-LIMIT a declared size past 8 GiB
(the oracle's reading too); PART-INVALID a part without a 'data' file field or not
multipart; COMPLETE-INVALID a completion with a missing, mistyped or unknown field. Any
other INVALID reading (a value below a minimum, an anchor other than created_at, a body that
is not JSON) is SCHEMA-NEGATIVE's alone, and what the documentation leaves open (the judge's
OPEN reading) breaks nothing.
"""

from __future__ import annotations

from typing import Final

from conformance.openapi.judge import Judgement, Reading

# The JSON Schema keywords a missing, mistyped or unknown field breaks.
FIELD_KEYWORDS: Final = frozenset({"required", "type", "additionalProperties"})
JSON_RULES: Final = {"createUpload": "CREATE-INVALID", "completeUpload": "COMPLETE-INVALID"}


def rule_broken(operation: str, judged: Judgement) -> str | None:
    """The requirement (other than SCHEMA-NEGATIVE) that taking this request breaks."""
    if judged.reading is not Reading.INVALID:
        return None
    if operation == "addUploadPart":
        return "PART-INVALID"  # every INVALID reading of a part: not multipart, no 'data'
    if operation == "createUpload" and judged.where == "/bytes" and judged.keyword == "maximum":
        return "UPLOAD-SIZE-LIMIT"
    if operation == "createUpload" and (judged.where, judged.keyword) == ("/purpose", "enum"):
        return "CREATE-INVALID"
    return JSON_RULES.get(operation) if judged.keyword in FIELD_KEYWORDS else None
